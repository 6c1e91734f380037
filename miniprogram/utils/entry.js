// What opened the donate page → the query for GET /api/entry, or null when nothing usable did.
//   ordinary-URL QR code:  options.q = encodeURIComponent("{public_url}/d/<unit>/<campaign>")
//   mini-program code:     options.scene = encodeURIComponent("<unit>/<campaign>")
//   shared card, Moments:  options.unit, options.campaign
function decodeOnce(text) {
  try {
    return decodeURIComponent(text)
  } catch (e) {
    return text
  }
}

function entryQuery(options) {
  const opts = options || {}
  if (opts.q) return { q: decodeOnce(String(opts.q)) }
  if (opts.scene) return { scene: decodeOnce(String(opts.scene)) }
  if (opts.unit && opts.campaign) {
    return { scene: decodeOnce(String(opts.unit)) + '/' + decodeOnce(String(opts.campaign)) }
  }
  return null
}

// Query string for the page that shows a unit's campaign (shares, result's "再捐一次").
function donatePath(unitCode, campaignCode) {
  return '/pages/donate/donate?unit=' + encodeURIComponent(unitCode) +
    '&campaign=' + encodeURIComponent(campaignCode)
}

module.exports = { entryQuery, donatePath }
