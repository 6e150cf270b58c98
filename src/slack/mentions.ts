/**
 * Slack's mention syntax in typed text (`<@U123|alice>`, `<#C123|ops>`, `<!subteam^S123|sre>`,
 * sent when a command escapes entities or someone pastes it) as the plain `@U123` / `#C123` a
 * command reads: commands know no Slack syntax, and the id is the exact part.
 */
export function plainMentions(text: string): string {
  return text
    .replace(/<@([A-Z0-9]{2,40})(?:\|[^<>]{0,80})?>/g, '@$1')
    .replace(/<#([A-Z0-9]{2,40})(?:\|[^<>]{0,80})?>/g, '#$1')
    .replace(/<!subteam\^([A-Z0-9]{2,40})(?:\|[^<>]{0,80})?>/g, '@$1');
}
