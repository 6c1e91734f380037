// Answers shaped as docs/api.md writes them.
function unit(overrides = {}) {
  return Object.assign({
    code: 'DX-XF',
    name: '兴丰街道总工会',
    kind: 'street',
    active: true,
    path: [{ code: 'DX', name: '大兴区总工会' }, { code: 'DX-XF', name: '兴丰街道总工会' }],
    totals: [
      { campaign: 'one-yuan', total_fen: 1200, donation_count: 5, donor_count: 4 },
      { campaign: 'ten-yuan', total_fen: 0, donation_count: 0, donor_count: 0 }
    ]
  }, overrides)
}

function campaign(overrides = {}) {
  return Object.assign({
    code: 'one-yuan', name: '一元捐', status: 'open', amount_fen: 100, goal_fen: 0,
    total_fen: 56700, donation_count: 321, donor_count: 300
  }, overrides)
}

function entry(overrides = {}) {
  return Object.assign({ unit: unit(), campaign: campaign(), max_quantity: 100 }, overrides)
}

let serial = 0
function donation(overrides = {}) {
  serial += 1
  return Object.assign({
    out_trade_no: 'WF2612021302' + String(serial).padStart(14, '0'),
    campaign: 'one-yuan', unit: 'DX-XF', quantity: 3, amount_fen: 300,
    anonymous: false, message: '', status: 'pending',
    created_at: '2026-12-02T13:02:21+08:00', paid_at: null,
    payment: { timeStamp: '1796187741', nonceStr: 'N0NCE', package: 'prepay_id=wx02', signType: 'RSA', paySign: 'SIGN' }
  }, overrides)
}

module.exports = { unit, campaign, entry, donation }
