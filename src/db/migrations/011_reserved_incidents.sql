-- Placeholder on the reports branch only: 011 belongs to the incidents work (issue 21), which lands
-- in another branch. Migrations must be numbered without gaps, so this keeps 012 applicable here.
-- DELETE THIS FILE when merging, in favour of the incidents branch's 011.
SELECT 1;
