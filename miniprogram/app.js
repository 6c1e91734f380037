// The app itself holds no state: pages read what they need from the server through utils/api.js.
App({
  onLaunch() {
    if (wx.canIUse && wx.canIUse('getUpdateManager')) {
      const manager = wx.getUpdateManager()
      manager.onUpdateReady(() => {
        wx.showModal({
          title: '新版本',
          content: '新版本已准备好，重启小程序即可使用',
          showCancel: false,
          success: () => manager.applyUpdate()
        })
      })
    }
  }
})
