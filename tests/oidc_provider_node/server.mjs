// node oidc-provider (a certified OpenID Provider) on a loopback port of the kernel's choosing, for the tests.
//
// Usage: node server.mjs CONFIG_JSON
//   CONFIG_JSON: {"accessTokenTtl": seconds, "deviceInterval": seconds}
//   deviceInterval: the polling interval the device authorization answer names (none, so RFC 8628's 5 s, without)
// Prints one JSON line {"issuer": "http://127.0.0.1:PORT"} on stdout once it is listening, then one JSON line per
// token-endpoint call or revoked grant ({"event": "grant", ...}), which tests read to count what loopauth sent.
// It exits when its stdin closes, so a test that dies cannot leave it behind.
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2] || '{}');

const PUBLIC_CLIENT_ID = 'loopauth-native';
const CONFIDENTIAL_CLIENT_ID = 'loopauth-confidential';
const CONFIDENTIAL_CLIENT_SECRET = 'confidential-secret-0123456789';

function log(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const grantTypes = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'];
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: PUBLIC_CLIENT_ID,
        application_type: 'native',
        // RFC 8252 §7.3: for a native client's loopback redirect the port is not compared.
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: grantTypes,
        response_types: ['code'],
      },
      {
        client_id: CONFIDENTIAL_CLIENT_ID,
        client_secret: CONFIDENTIAL_CLIENT_SECRET,
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: grantTypes,
        response_types: ['code'],
      },
    ],
    // Every client, public or not, must use PKCE (RFC 9700 §2.1.1).
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name'],
      email: ['email', 'email_verified'],
    },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, preferred_username: id, name: `Test ${id}`, email: `${id}@example.test`, email_verified: true };
        },
      };
    },
    // Every refresh rotates the refresh token; a spent one sent again revokes the whole grant (reuse detection).
    rotateRefreshToken: true,
    ttl: {
      AccessToken: config.accessTokenTtl ?? 3600,
      // The test user logs in afresh for every test; nothing here needs a long session.
      Session: 600,
      Interaction: 600,
      Grant: 3600,
      DeviceCode: 600,
      RefreshToken: 86400,
      IdToken: 3600,
      AuthorizationCode: 60,
    },
    cookies: { keys: ['loopauth-test-only-cookie-key'] },
  });
  provider.on('grant.success', (ctx) => {
    log({ event: 'grant', grant_type: ctx.oidc.params.grant_type, client_id: ctx.oidc.client?.clientId });
  });
  provider.on('grant.error', (ctx, err) => {
    log({ event: 'grant_error', grant_type: ctx.oidc.params?.grant_type, error: err.error });
  });
  provider.on('grant.revoked', (ctx, grantId) => {
    log({ event: 'grant_revoked', grant_id: grantId });
  });
  if (config.deviceInterval) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/device/auth' && ctx.body?.device_code) ctx.body.interval = config.deviceInterval;
    });
  }
  server.on('request', provider.callback());
  log({ issuer });
});

// The test process holds our stdin; when it goes, so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
