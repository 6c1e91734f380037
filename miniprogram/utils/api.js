// The one request wrapper: base URL from config.js, the worker's token (kept with its expiry,
// renewed on a 401), the server's error shape, and timeouts.
const config = require('../config')

const TOKEN_KEY = 'warmfund.token'
// A token this close to its expiry is renewed before use rather than sent to be refused.
const EXPIRY_MARGIN_MS = 60 * 1000

const NETWORK_MESSAGE = '网络不给力，请检查网络后重试'
const TIMEOUT_MESSAGE = '服务器响应超时，请稍后重试'
const UNEXPECTED_MESSAGE = '服务器开小差了，请稍后重试'

class ApiError extends Error {
  // code: the server's error code, or 'network' / 'timeout' / 'unexpected' for the client's own.
  constructor(code, message, status) {
    super(message)
    this.code = code
    this.status = status || 0
  }
}

function now() {
  return Date.now()
}

function encodeQuery(params) {
  const parts = []
  Object.keys(params || {}).forEach(key => {
    const value = params[key]
    if (value !== undefined && value !== null && value !== '') {
      parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(value)))
    }
  })
  return parts.length ? '?' + parts.join('&') : ''
}

// One HTTP exchange: resolves { status, data } for any HTTP answer, rejects ApiError when
// there was none (offline, timeout).
function send(method, path, data, token) {
  return new Promise((resolve, reject) => {
    const header = { Accept: 'application/json' }
    if (data !== undefined) header['Content-Type'] = 'application/json'
    if (token) header.Authorization = 'Bearer ' + token
    wx.request({
      url: config.baseUrl + path,
      method,
      data,
      header,
      dataType: 'json',
      timeout: config.timeoutMs,
      success: res => resolve({ status: res.statusCode, data: res.data }),
      fail: err => {
        const text = (err && err.errMsg) || ''
        if (/time ?out/i.test(text)) reject(new ApiError('timeout', TIMEOUT_MESSAGE))
        else reject(new ApiError('network', NETWORK_MESSAGE))
      }
    })
  })
}

function toError(status, data) {
  const error = data && typeof data === 'object' && data.error
  if (error && typeof error.message === 'string') {
    return new ApiError(error.code || 'unexpected', error.message, status)
  }
  return new ApiError('unexpected', UNEXPECTED_MESSAGE, status)
}

async function call(method, path, data, token) {
  const res = await send(method, path, data, token)
  if (res.status >= 200 && res.status < 300) {
    if (res.data && typeof res.data === 'object') return res.data
    throw new ApiError('unexpected', UNEXPECTED_MESSAGE, res.status)
  }
  throw toError(res.status, res.data)
}

// --- the worker's token --------------------------------------------------------------------

function storedToken() {
  let saved = null
  try {
    saved = wx.getStorageSync(TOKEN_KEY)
  } catch (e) {
    saved = null
  }
  if (saved && saved.token && saved.expiresAt - EXPIRY_MARGIN_MS > now()) return saved.token
  return null
}

function forgetToken() {
  try {
    wx.removeStorageSync(TOKEN_KEY)
  } catch (e) {
    // nothing kept: nothing to forget
  }
}

function wxLogin() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: res => (res && res.code ? resolve(res.code) : reject(new ApiError('login', '微信登录失败，请重试'))),
      fail: () => reject(new ApiError('login', '微信登录失败，请重试'))
    })
  })
}

let pendingLogin = null

// wx.login → POST /api/login; concurrent callers share one login.
function login() {
  if (!pendingLogin) {
    pendingLogin = (async () => {
      const code = await wxLogin()
      const body = await call('POST', '/api/login', { code })
      const expiresAt = now() + Number(body.expires_in || 0) * 1000
      wx.setStorageSync(TOKEN_KEY, { token: body.token, expiresAt })
      return body.token
    })()
    const clear = () => { pendingLogin = null }
    pendingLogin.then(clear, clear)
  }
  return pendingLogin
}

async function token() {
  return storedToken() || login()
}

// A call that needs the worker: a 401 means the token is gone (expired, server key changed):
// log in again and try once more.
async function authed(method, path, data) {
  try {
    return await call(method, path, data, await token())
  } catch (err) {
    if (err.status !== 401) throw err
    forgetToken()
    return call(method, path, data, await login())
  }
}

// --- the mini-program API (docs/api.md) ----------------------------------------------------

function entry(params) {
  return call('GET', '/api/entry' + encodeQuery(params))
}

function campaigns() {
  return call('GET', '/api/campaigns')
}

function unit(code) {
  return call('GET', '/api/units/' + encodeURIComponent(code))
}

function createDonation(order) {
  return authed('POST', '/api/donations', order)
}

function donation(outTradeNo) {
  return authed('GET', '/api/donations/' + encodeURIComponent(outTradeNo))
}

function myDonations(cursor) {
  return authed('GET', '/api/me/donations' + encodeQuery({ cursor }))
}

module.exports = {
  ApiError,
  TOKEN_KEY,
  entry,
  campaigns,
  unit,
  createDonation,
  donation,
  myDonations,
  login,
  forgetToken
}
