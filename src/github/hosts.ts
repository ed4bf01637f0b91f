/**
 * The web host of the GitHub that GITHUB_API_URL points at: api.github.com → github.com, and
 * GitHub Enterprise's https://host/api/v3 → host. Tokens are only ever handed to that host.
 */
export function githubWebHost(apiUrl: string): string {
  const url = new URL(apiUrl);
  return url.host === "api.github.com" ? "github.com" : url.host;
}
