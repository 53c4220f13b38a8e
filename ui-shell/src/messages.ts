// The shell's texts. zh-CN is the first language; every key exists in both
// (a test checks), so nothing ever shows a raw key.
export const zhCN = {
  app: { title: '上海市市场监督管理局', subtitle: '综合业务门户', portal: '企业和群众服务' },
  nav: {
    home: '工作台', inbox: '待办事项', start: '发起审批', messages: '消息中心', admin: '系统管理',
    plugins: '插件管理', processes: '流程定义', calendars: '工作日历', audit: '审计日志', profile: '个人设置',
    business: '业务应用', sessions: '在线会话', policies: '访问策略', users: '用户与机构', dicts: '数据字典',
    orgs: '组织机构', roles: '角色管理',
  },
  common: {
    search: '搜索', submit: '提交', cancel: '取消', save: '保存', ok: '确定', refresh: '刷新', loading: '加载中…',
    empty: '暂无数据', actions: '操作', open: '打开', back: '返回', comment: '意见', language: 'English',
    care: '大字模式', logout: '退出登录', total: '共 {n} 条', status: '状态', title: '标题', yes: '是', no: '否',
  },
  login: {
    title: '工作人员登录', username: '用户名', password: '密码', submit: '登录', enterprise: '企业登录（一网通办）',
    public: '个人登录（随申办）', portal: '企业和群众请进入服务门户', demo: "演示账号密码均为 Demo{'@'}2026!",
  },
  home: {
    welcome: '您好，{name}', todo: '待办', cc: '未读抄送', supervise: '督办', started: '我发起的（办理中）',
    byColour: '待办时限分布', noTodo: '暂无待办事项', trend: '近两周办结情况', completed: '办结', colours: { green: '正常', yellow: '过半', orange: '临期', red: '超期' },
  },
  inbox: {
    todo: '待办', done: '已办', started: '我发起的', cc: '抄送我的', supervise: '督办',
    node: '环节', due: '办理时限', reason: '来源', created: '到达时间', plugin: '业务', claim: '认领',
    status: { open: '待办理', waiting: '等待中', done: '已办结', cancelled: '已撤销', running: '办理中', approved: '已通过', rejected: '已驳回', withdrawn: '已撤回', terminated: '已终止' },
  },
  task: {
    form: '表单', timeline: '办理过程', actionsTitle: '办理', clock: '时限计算过程', target: '退回到',
    users: '人员（用户名，逗号分隔）', position: '加签位置', before: '之前', after: '之后',
    done: '已办理', openInPlugin: '打开业务页面', handleInPlugin: '此事项在业务页面办理：查看材料并作出处理。',
    action: {
      approve: '同意', reject: '驳回', return: '退回', transfer: '转办', delegate: '委派', add_sign: '加签',
      remove_sign: '减签', claim: '认领', release: '释放', complete: '完成', withdraw: '撤回', urge: '催办',
      terminate: '终止', start: '发起', branch: '条件分支', passed: '环节通过', end: '结束', returned_to_owner: '交回',
      skipped: '跳过', comment: '评论',
    },
  },
  start: { process: '流程', title: '事项标题', amount: '金额（元）', reason: '事由', started: '已发起' },
  messages: { unread: '未读', all: '全部', readAll: '全部标为已读', live: '实时' },
  plugins: {
    id: '标识', name: '名称', version: '版本', state: '状态', install: '安装插件包', upgrade: '升级', rollback: '回退',
    enable: '启用', disable: '停用', logs: '日志', installing: '正在安装…', upgrading: '正在升级，旧版本继续服务…',
    installed: '已安装 {id} {version}', chooseBundle: '选择插件包（.tar.gz）',
    settings: '设置', settingsOf: '{id} 的设置', settingKey: '设置项', settingValue: '值', secretSet: '已设置（不显示）', settingRemove: '删除',
    settingSaved: '已保存 {key}', settingsHint: '插件启动时读取的设置在其下次启动（升级，或停用再启用）时生效；以 key、secret、password、token 结尾的值不会显示。',
  },
  processes: { key: '流程标识', latest: '最新版本', source: '来源', publish: '发布新版本', spec: '定义（JSON）', published: '已发布版本 {v}' },
  calendars: { year: '年度', holidays: '法定节假日', workdays: '调休上班日' },
  audit: { at: '时间', actor: '操作人', action: '操作', resource: '对象', outcome: '结果', verify: '校验完整性', verified: '已校验 {n} 条，链完整' },
  profile: { old: '原密码', new: '新密码', change: '修改密码', changed: '密码已修改' },
  portal: { welcome: '企业和群众服务', notices: '通知公告', myApps: '我的申请', signIn: '登录', staff: '工作人员入口' },
  plugin: {
    create: '新建', noEntity: '此页面没有可显示的数据定义', created: '已保存', details: '基本信息', attachments: '附件', timeline: '流程',
    record: '记录详情', done: '已完成：{action}', bulkDone: '{action}：{total}条中{done}条成功', filter: '筛选（输入关键词）', openRecord: '打开记录 {id}', backToList: '返回列表', noAttachments: '暂无附件', unavailable: '无权查看或已不存在',
    download: '下载 {name}', noInstance: '尚未发起流程', openInstance: '查看流程详情',
  },
  users: {
    orgs: '组织机构', name: '姓名', org: '所在机构', roles: '角色', lastLogin: '最近登录', create: '新建用户', created: '用户已创建',
    saved: '已保存', disable: '停用', enable: '启用', unlock: '解锁', status: { active: '正常', disabled: '停用', locked: '锁定' },
  },
  orgs: {
    tree: '机构树', pick: '选择单位', none: '请在机构树中选择一个单位', code: '机构编码', name: '中文名称', nameEn: '英文名称',
    kind: '类型', path: '路径', division: '行政区划代码', parent: '上级单位', add: '新增下级单位', rename: '重命名', remove: '删除',
    confirmRemove: '确定删除“{name}”吗？', created: '已创建 {name}', renamed: '已重命名', removed: '已删除',
    codeHint: '区局为 6 位行政区划代码；市场所、内设机构为上级编码加 -S 或 -D 和两位序号。', leafOnly: '只能删除没有下级单位的单位。',
    kinds: { city: '市局', district: '区局', station: '市场所', department: '内设机构' },
  },
  roles: {
    key: '角色标识', name: '中文名称', nameEn: '英文名称', type: '类型', builtin: '内置', custom: '自定义', scope: '数据范围',
    customScope: '指定单位', permissions: '权限', users: '授予账号', create: '新建角色', edit: '编辑', view: '查看', remove: '删除',
    confirmRemove: '确定删除角色“{name}”吗？', created: '角色已创建', saved: '已保存', removed: '角色已删除',
    readOnly: '内置角色由系统维护，只能查看。', adminOnly: '管理员专有', inUse: '已授予账号的角色不能删除。',
    adminHint: '系统、安全、审计管理员的专有权限不能放入自定义角色（三员分立）。', selected: '已选 {n} 项',
    keyHint: '小写字母开头，3 至 64 位小写字母、数字或下划线', allOf: '全选 {name}',
    scopes: { all: '全部数据', subtree: '本单位及下级', own_level: '仅本单位', own: '仅本人', custom: '指定单位' },
  },
  dicts: { key: '字典标识', items: '条目数' },
  sessions: { signedIn: '登录时间', lastSeen: '最近活动', client: '客户端', end: '强制下线' },
  policies: { test: '测试决策', input: '输入（JSON）', publish: '发布', published: '策略已发布并生效' },
  verify: {
    title: '文书核验', issued: '有效文书', revoked: '已撤销', docTitle: '文书名称', number: '文号', issuer: '制发机关',
    signedAt: '签章时间', digest: '原件 SM3 摘要', copies: '已出具副本', reason: '撤销原因', checkFile: '核验文件',
    checkHint: '选择一份电子文书（PDF），核验其电子签章、完整性和状态。', choose: '选择 PDF 文件', valid: '签章有效，文件未被改动',
    invalid: '核验未通过', signer: '签章人',
  },
}

export type Messages = typeof zhCN

export const en: Messages = {
  app: { title: 'Shanghai Administration for Market Regulation', subtitle: 'Portal', portal: 'Services for enterprises and the public' },
  nav: {
    home: 'Workbench', inbox: 'Inbox', start: 'Start an approval', messages: 'Messages', admin: 'Administration',
    plugins: 'Plugins', processes: 'Processes', calendars: 'Calendars', audit: 'Audit log', profile: 'Profile',
    business: 'Business', sessions: 'Online sessions', policies: 'Policies', users: 'Users and organisations', dicts: 'Dictionaries',
    orgs: 'Organisations', roles: 'Roles',
  },
  common: {
    search: 'Search', submit: 'Submit', cancel: 'Cancel', save: 'Save', ok: 'OK', refresh: 'Refresh', loading: 'Loading…',
    empty: 'Nothing here', actions: 'Actions', open: 'Open', back: 'Back', comment: 'Comment', language: '中文',
    care: 'Large text', logout: 'Sign out', total: '{n} in all', status: 'Status', title: 'Title', yes: 'Yes', no: 'No',
  },
  login: {
    title: 'Staff sign-in', username: 'Username', password: 'Password', submit: 'Sign in', enterprise: 'Enterprise sign-in (Yiwangtongban)',
    public: 'Personal sign-in (Suishenban)', portal: 'Enterprises and the public: go to the service portal', demo: "Every demo account’s password is Demo{'@'}2026!",
  },
  home: {
    welcome: 'Hello, {name}', todo: 'To do', cc: 'Unread copies', supervise: 'Supervision', started: 'Started by me (running)',
    byColour: 'To-dos by deadline', noTodo: 'Nothing to do', trend: 'Completed in the last two weeks', completed: 'Completed', colours: { green: 'On time', yellow: 'Half gone', orange: 'Due soon', red: 'Overdue' },
  },
  inbox: {
    todo: 'To do', done: 'Done', started: 'Started by me', cc: 'Copied to me', supervise: 'Supervision',
    node: 'Step', due: 'Due', reason: 'Why me', created: 'Arrived', plugin: 'Business', claim: 'Claim',
    status: { open: 'Open', waiting: 'Waiting', done: 'Done', cancelled: 'Cancelled', running: 'Running', approved: 'Approved', rejected: 'Rejected', withdrawn: 'Withdrawn', terminated: 'Terminated' },
  },
  task: {
    form: 'Form', timeline: 'History', actionsTitle: 'Handle', clock: 'How the deadline was computed', target: 'Return to',
    users: 'People (usernames, comma-separated)', position: 'Add', before: 'before me', after: 'after me',
    done: 'Done', openInPlugin: 'Open the business page', handleInPlugin: 'This to-do is handled on its business page: review the materials and act there.',
    action: {
      approve: 'Approve', reject: 'Reject', return: 'Return', transfer: 'Transfer', delegate: 'Delegate', add_sign: 'Add signer',
      remove_sign: 'Remove signer', claim: 'Claim', release: 'Release', complete: 'Complete', withdraw: 'Withdraw', urge: 'Urge',
      terminate: 'Terminate', start: 'Started', branch: 'Branch', passed: 'Step passed', end: 'Ended', returned_to_owner: 'Back to owner',
      skipped: 'Skipped', comment: 'Comment',
    },
  },
  start: { process: 'Process', title: 'Title', amount: 'Amount (yuan)', reason: 'Reason', started: 'Started' },
  messages: { unread: 'Unread', all: 'All', readAll: 'Mark all read', live: 'Live' },
  plugins: {
    id: 'Id', name: 'Name', version: 'Version', state: 'State', install: 'Install a bundle', upgrade: 'Upgrade', rollback: 'Roll back',
    enable: 'Enable', disable: 'Disable', logs: 'Logs', installing: 'Installing…', upgrading: 'Upgrading; the old version keeps serving…',
    installed: 'Installed {id} {version}', chooseBundle: 'Choose a bundle (.tar.gz)',
    settings: 'Settings', settingsOf: 'Settings of {id}', settingKey: 'Key', settingValue: 'Value', secretSet: 'Set (not shown)', settingRemove: 'Remove',
    settingSaved: 'Saved {key}', settingsHint: 'A setting the plugin reads at start applies at its next start (an upgrade, or disable and enable). Values of keys ending in key, secret, password or token are never shown.',
  },
  processes: { key: 'Key', latest: 'Latest version', source: 'Source', publish: 'Publish a new version', spec: 'Definition (JSON)', published: 'Published version {v}' },
  calendars: { year: 'Year', holidays: 'Public holidays', workdays: 'Make-up working days' },
  audit: { at: 'Time', actor: 'Actor', action: 'Action', resource: 'Resource', outcome: 'Outcome', verify: 'Verify integrity', verified: '{n} entries verified; the chain is intact' },
  profile: { old: 'Current password', new: 'New password', change: 'Change password', changed: 'Password changed' },
  portal: { welcome: 'Services for enterprises and the public', notices: 'Notices', myApps: 'My applications', signIn: 'Sign in', staff: 'Staff entrance' },
  plugin: {
    create: 'New', noEntity: 'This page has no data description to show', created: 'Saved', details: 'Details', attachments: 'Attachments', timeline: 'Timeline',
    record: 'Record details', done: 'Done: {action}', bulkDone: '{action}: {done} of {total} done', filter: 'Filter (type words)', openRecord: 'Open record {id}', backToList: 'Back to the list', noAttachments: 'No attachments', unavailable: 'Not available to you, or no longer there',
    download: 'Download {name}', noInstance: 'No process has started yet', openInstance: 'Open the process',
  },
  users: {
    orgs: 'Organisations', name: 'Name', org: 'Organisation', roles: 'Roles', lastLogin: 'Last sign-in', create: 'New user', created: 'User created',
    saved: 'Saved', disable: 'Disable', enable: 'Enable', unlock: 'Unlock', status: { active: 'Active', disabled: 'Disabled', locked: 'Locked' },
  },
  orgs: {
    tree: 'Organisation tree', pick: 'Choose a unit', none: 'Choose a unit in the tree', code: 'Code', name: 'Chinese name', nameEn: 'English name',
    kind: 'Kind', path: 'Path', division: 'Division code', parent: 'Parent unit', add: 'Add a unit under it', rename: 'Rename', remove: 'Delete',
    confirmRemove: 'Delete “{name}”?', created: 'Created {name}', renamed: 'Renamed', removed: 'Deleted',
    codeHint: 'A district bureau: its 6-digit division code; a station or an internal unit: the parent’s code, then -S or -D and two digits.', leafOnly: 'Only a unit with no units under it can be deleted.',
    kinds: { city: 'City bureau', district: 'District bureau', station: 'Market station', department: 'Internal unit' },
  },
  roles: {
    key: 'Key', name: 'Chinese name', nameEn: 'English name', type: 'Type', builtin: 'Built-in', custom: 'Custom', scope: 'Data scope',
    customScope: 'Units', permissions: 'Permissions', users: 'Holders', create: 'New role', edit: 'Edit', view: 'View', remove: 'Delete',
    confirmRemove: 'Delete the role “{name}”?', created: 'Role created', saved: 'Saved', removed: 'Role deleted',
    readOnly: 'Built-in roles are kept by the portal and can only be viewed.', adminOnly: 'Administrators only', inUse: 'A role granted to accounts cannot be deleted.',
    adminHint: 'The system, security and audit administrators’ own permissions cannot go into a custom role (separation of administrators).', selected: '{n} chosen',
    keyHint: 'Starts with a lower-case letter; 3 to 64 lower-case letters, digits or underscores', allOf: 'All of {name}',
    scopes: { all: 'All records', subtree: 'Own unit and below', own_level: 'Own unit only', own: 'Own records only', custom: 'Chosen units' },
  },
  dicts: { key: 'Key', items: 'Entries' },
  sessions: { signedIn: 'Signed in', lastSeen: 'Last active', client: 'Client', end: 'End session' },
  policies: { test: 'Test a decision', input: 'Input (JSON)', publish: 'Publish', published: 'Policy published and in force' },
  verify: {
    title: 'Verify a document', issued: 'Valid document', revoked: 'Revoked', docTitle: 'Document', number: 'Number', issuer: 'Issued by',
    signedAt: 'Signed at', digest: 'SM3 digest of the original', copies: 'Copies issued', reason: 'Reason for revocation', checkFile: 'Check a file',
    checkHint: 'Choose an electronic document (PDF) to check its signature, its integrity and its status.', choose: 'Choose a PDF file', valid: 'Signature valid; the file is unchanged',
    invalid: 'Verification failed', signer: 'Signed by',
  },
}
