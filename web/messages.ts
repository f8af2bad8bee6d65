/** Every word a page shows, per language: Chinese first (the users'), English beside it. */
const zh = {
  appName: '绿地养护', login: '登录', logout: '退出', name: '用户名', password: '密码', loginFailed: '用户名或密码错误',
  myWork: '我的工单', board: '工单看板', alerts: '告警收件箱', noWork: '暂无待办工单', due: '期限', overdue: '已超期',
  alert: '告警', place: '位置', map: '在地图中打开', history: '处理记录', accept: '接单', resolve: '提交整改', note: '说明',
  photo: '现场照片', takePhoto: '拍照或选择照片', comment: '留言', send: '发送', assign: '派单', assignee: '处理人',
  verify: '验收销号', reject: '退回整改', state: '状态', severity: '级别', kind: '类型', community: '小区', filter: '筛选',
  all: '全部', acknowledge: '确认告警', resolveAlert: '解除告警', ackDone: '已确认，谢谢！', ackBy: '确认人', linkInvalid: '链接无效或已过期',
  optionalNote: '备注（可选）', readOnly: '只读账号：可查看，不能修改', back: '返回', workOrder: '工单', created: '创建', by: '操作人',
  states: { open: '待派单', assigned: '已派单', accepted: '处理中', resolved: '待验收', closed: '已销号', cancelled: '已取消', firing: '告警中', acknowledged: '已确认' } as Record<string, string>,
  severities: { critical: '严重', warning: '警告', info: '提示' } as Record<string, string>,
  separation: '整改人不能验收自己的整改（整改销号）', changePassword: '修改密码', language: 'English',
  report: '居民反映问题', reportIntro: '发现设施损坏、绿地被挖或种菜、浇水异常？请告诉我们，养护队会处理。无需登录。', category: '问题类型', where: '具体位置（可选）',
  whatHappened: '情况说明', submitReport: '提交', reportThanks: '已收到，谢谢！请记下您的查询编号：', checkState: '查询处理进度',
  categories: { facility_damaged: '设施损坏', green_space_destroyed: '绿地被挖/种菜/占用', watering_problem: '浇水问题', other: '其他' } as Record<string, string>,
  reportStates: { received: '已受理', in_progress: '处理中', fixed: '已整改，待验收', closed: '已办结' } as Record<string, string>,
};
export type Messages = typeof zh;
const en: Messages = {
  appName: 'Green space care', login: 'Log in', logout: 'Log out', name: 'Name', password: 'Password', loginFailed: 'Unknown name or wrong password',
  myWork: 'My work orders', board: 'Work-order board', alerts: 'Alert inbox', noWork: 'Nothing to do', due: 'Due', overdue: 'Overdue',
  alert: 'Alert', place: 'Place', map: 'Open in a map', history: 'History', accept: 'Accept', resolve: 'Record the fix', note: 'Note',
  photo: 'Photo', takePhoto: 'Take or choose a photo', comment: 'Comment', send: 'Send', assign: 'Assign', assignee: 'Assignee',
  verify: 'Verify and close', reject: 'Send back', state: 'State', severity: 'Severity', kind: 'Kind', community: 'Community', filter: 'Filter',
  all: 'All', acknowledge: 'Acknowledge', resolveAlert: 'Resolve', ackDone: 'Acknowledged — thank you!', ackBy: 'Acknowledged by', linkInvalid: 'This link is invalid or has expired',
  optionalNote: 'Note (optional)', readOnly: 'Read-only account: you can look, not change', back: 'Back', workOrder: 'Work order', created: 'Created', by: 'By',
  states: { open: 'open', assigned: 'assigned', accepted: 'in progress', resolved: 'awaiting verification', closed: 'closed', cancelled: 'cancelled', firing: 'firing', acknowledged: 'acknowledged' },
  severities: { critical: 'critical', warning: 'warning', info: 'info' },
  separation: 'Whoever recorded the fix cannot verify it (整改销号)', changePassword: 'Change password', language: '中文',
  report: 'Report a problem', reportIntro: 'A damaged facility, green space dug up or planted with vegetables, a watering problem? Tell the care team. No login needed.', category: 'What', where: 'Where exactly (optional)',
  whatHappened: 'What happened', submitReport: 'Send', reportThanks: 'Received, thank you. Keep your reference:', checkState: 'Check its progress',
  categories: { facility_damaged: 'Facility damaged', green_space_destroyed: 'Green space dug up / planted / occupied', watering_problem: 'Watering problem', other: 'Other' },
  reportStates: { received: 'received', in_progress: 'in progress', fixed: 'fixed, awaiting verification', closed: 'closed' },
};
export const MESSAGES = { zh, en } as const;
export type Lang = keyof typeof MESSAGES;

/** `?lang=en` or a browser asking for English first; Chinese otherwise. */
export function langOf(query: unknown, acceptLanguage: string | undefined): Lang {
  const asked = (query as { lang?: string } | undefined)?.lang;
  if (asked === 'en' || asked === 'zh') return asked;
  return acceptLanguage?.trim().toLowerCase().startsWith('en') ? 'en' : 'zh';
}
