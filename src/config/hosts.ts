/**
 * Which hosts get a token. The access token goes to graph.baseUrl on every job, and the refresh
 * token and device code to the authority's token endpoint: a URL that reads like Microsoft's but
 * is not (`https://graph.microsoft.com@evil.example/`, `https://graph.microsoft.com.evil.example/`)
 * must be refused, not followed. Microsoft's own hosts are allowed by default; any other host
 * only when the configuration lists it (graph.allowedHosts, auth.knownAuthorities), so a
 * private Graph-like server or an identity emulator is a deliberate choice.
 */

/** Microsoft Graph in the global, US Government (L4, L5/DoD) and China (21Vianet) clouds. */
export const MICROSOFT_GRAPH_HOSTS = ['graph.microsoft.com', 'graph.microsoft.us', 'dod-graph.microsoft.us', 'microsoftgraph.chinacloudapi.cn'];

/** Entra ID's sign-in hosts in every cloud, which msal-node knows without discovery. */
export const MICROSOFT_LOGIN_HOSTS = [
  'login.microsoftonline.com', 'login.microsoft.com', 'login.windows.net', 'sts.windows.net',
  'login.microsoftonline.us', 'login.usgovcloudapi.net', 'login.chinacloudapi.cn', 'login.partner.microsoftonline.cn',
];

/** True when `url`'s host is one of `hosts` (by default port only) or listed in `extra` as host or host:port. */
function hostAllowed(url: URL, defaults: readonly string[], extra: readonly string[]): boolean {
  if (url.port === '' && defaults.includes(url.hostname)) return true;
  return extra.some((h) => h.toLowerCase() === url.host || h.toLowerCase() === url.hostname);
}

/** An address shown in a message: without user-info (which may hold a password), query or fragment. */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * The Graph address (graph.baseUrl, or the Python sample's `endpoint`): https, no user-info, no
 * fragment, no query (except the endpoint's, which becomes its job's path), a Microsoft Graph host
 * or one in graph.allowedHosts. One problem at most, pushed on `problems`.
 */
export function checkGraphUrl(field: string, value: string, allowedHosts: readonly string[], problems: string[], options: { allowQuery?: boolean } = {}): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return; // the schema reports it
  }
  if (url.protocol !== 'https:') return; // the schema reports it
  if (url.username !== '' || url.password !== '') {
    problems.push(`${field}: the address has a user name before "@" (${url.username ? `"${decodeURIComponent(url.username).slice(0, 40)}@"` : '"@"'}), so it goes to ${url.host}, not to the name in front: remove the part up to "@", e.g. https://graph.microsoft.com/v1.0`);
    return;
  }
  if (url.hash !== '' || value.includes('#')) {
    problems.push(`${field}: ${shown(url)} has a fragment ("#..."): remove it, e.g. https://graph.microsoft.com/v1.0`);
    return;
  }
  if (!options.allowQuery && (url.search !== '' || value.includes('?'))) {
    problems.push(`${field}: ${shown(url)} has a query string ("?..."): give the base address only, e.g. https://graph.microsoft.com/v1.0 (a job's path may carry a query)`);
    return;
  }
  if (!hostAllowed(url, MICROSOFT_GRAPH_HOSTS, allowedHosts)) {
    problems.push(`${field}: ${url.host} is not a Microsoft Graph host (${MICROSOFT_GRAPH_HOSTS.join(', ')}), and the access token would be sent to it: ` +
      `fix the address, or if that server is yours add "${url.host}" to graph.allowedHosts`);
  }
}

/**
 * The authority itself (no user-info), `auth.authorityMetadata`'s endpoints and
 * `auth.azureCloudOptions.azureCloudInstance`: https, no user-info, and on the authority's host,
 * a Microsoft login host or a host in auth.knownAuthorities.
 */
export function checkAuthorityEndpoints(auth: {
  authority: string;
  knownAuthorities: readonly string[];
  authorityMetadata?: string | undefined;
  azureCloudOptions?: { azureCloudInstance: string } | undefined;
}, problems: string[]): void {
  const authority = new URL(auth.authority);
  if (authority.username !== '' || authority.password !== '') {
    problems.push(`auth.authority: the address has a user name before "@", so it goes to ${authority.host}: remove the part up to "@", e.g. https://login.microsoftonline.com/organizations`);
    return;
  }
  if (authority.search !== '' || authority.hash !== '') {
    problems.push(`auth.authority: ${shown(authority)} has a query or fragment: give https://HOST/TENANT only, e.g. https://login.microsoftonline.com/organizations`);
    return;
  }
  const trusted = (url: URL): boolean => url.host === authority.host || hostAllowed(url, MICROSOFT_LOGIN_HOSTS, auth.knownAuthorities);
  const fix = `use an https address on ${authority.host}, a Microsoft login host, or a host listed in auth.knownAuthorities`;
  const check = (field: string, value: unknown): boolean => {
    let url: URL;
    try {
      url = new URL(String(value));
    } catch {
      problems.push(`${field}: ${JSON.stringify(String(value).slice(0, 80))} is not a URL: ${fix}`);
      return false;
    }
    if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || !trusted(url)) {
      const why = url.protocol !== 'https:' ? 'is not https' : url.username !== '' || url.password !== '' ? 'has a user name before "@"' : `is on ${url.host}`;
      problems.push(`${field}: ${shown(url)} ${why}, and tokens or codes would be sent there: ${fix}`);
      return false;
    }
    return true;
  };

  if (auth.authorityMetadata !== undefined) {
    let metadata: unknown;
    try {
      metadata = JSON.parse(auth.authorityMetadata);
    } catch {
      metadata = undefined; // reported as "not a JSON string" by the caller
    }
    if (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)) {
      for (const [key, value] of Object.entries(metadata)) {
        if (!key.endsWith('_endpoint') || value === undefined || value === null) continue;
        if (!check(`auth.authorityMetadata (${key.slice(0, 40)})`, value)) break;
      }
    } else if (metadata !== undefined) {
      problems.push('auth.authorityMetadata: not a JSON object: paste the authority\'s OpenID configuration document as a JSON-encoded string');
    }
  }
  const instance = auth.azureCloudOptions?.azureCloudInstance;
  if (instance !== undefined && instance !== 'None') check('auth.azureCloudOptions.azureCloudInstance', instance);
}
