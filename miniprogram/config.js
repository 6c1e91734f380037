// The one place the server's address lives. Set baseUrl to [app].public_url of the
// warmfund server (https, a domain in the mini-program's request whitelist), no trailing slash.
module.exports = {
  baseUrl: 'https://donate.example.org',
  // How long one request may take before the page says the network is slow (ms).
  timeoutMs: 10000,
  // Used only when the server does not say how many shares one order may buy.
  maxQuantityFallback: 100
}
