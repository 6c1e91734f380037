// Amounts, statuses and times as a worker reads them.

// 300 → "3", 150 → "1.5", 1234 → "12.34": yuan without needless zeros.
function yuan(fen) {
  const value = Number(fen) || 0
  const whole = Math.floor(value / 100)
  const cents = value % 100
  if (cents === 0) return String(whole)
  return whole + '.' + String(cents).padStart(2, '0').replace(/0$/, '')
}

const STATUS_TEXT = {
  pending: '待支付',
  paid: '已支付',
  closed: '已关闭',
  disputed: '核对中',
  refunding: '退款中',
  refunded: '已退款'
}

function statusText(status) {
  return STATUS_TEXT[status] || '处理中'
}

// "2026-12-02T13:02:21+08:00" → "2026-12-02 13:02" (the server writes China Standard Time).
function shortTime(rfc3339) {
  if (!rfc3339) return ''
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(rfc3339)
  return match ? match[1] + ' ' + match[2] : rfc3339
}

// The campaign's figures for a unit's subtree, from unit.totals.
function subtreeTotals(unit, campaignCode) {
  const found = ((unit && unit.totals) || []).find(t => t.campaign === campaignCode)
  return found || { total_fen: 0, donation_count: 0, donor_count: 0 }
}

function progress(figures, goalFen) {
  const total = Number(figures.total_fen) || 0
  const goal = Number(goalFen) || 0
  return {
    totalYuan: yuan(total),
    donors: Number(figures.donor_count) || 0,
    donations: Number(figures.donation_count) || 0,
    goalYuan: goal > 0 ? yuan(goal) : '',
    percent: goal > 0 ? Math.min(100, Math.floor((total * 100) / goal)) : 0
  }
}

module.exports = { yuan, statusText, shortTime, subtreeTotals, progress }
