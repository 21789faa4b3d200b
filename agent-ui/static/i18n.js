// i18n.js: every string the console shows, in English and Simplified
// Chinese, from this one dictionary. t(key, vars) substitutes {name} vars.
// Static markup uses data-i18n (text), data-i18n-placeholder,
// data-i18n-aria-label and data-i18n-title; applyI18n(root) fills them.

const dict = {
  en: {
    'app.name': 'ContactHub',
    'app.title': 'ContactHub agent console',
    'lang.label': 'Language',
    'skip.main': 'Skip to workspace',

    'login.title': 'Sign in',
    'login.heading': 'Sign in to ContactHub',
    'login.name': 'User name',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.busy': 'Signing in…',
    'login.invalid': 'invalid name or password',
    'login.throttled': 'Too many attempts. Please wait a minute and try again.',
    'login.failed': 'Sign-in failed: {error}',

    'header.agent': 'Agent',
    'header.state': 'My state',
    'header.reason': 'Reason',
    'header.logout': 'Log out',
    'phone.registered': 'Phone registered',
    'phone.unregistered': 'Phone not registered',
    'conn.connecting': 'Connecting…',
    'conn.lost': 'Connection lost. Reconnecting…',
    'conn.ok': 'Connected',

    'state.offline': 'Offline',
    'state.available': 'Available',
    'state.reserved': 'Reserved',
    'state.busy': 'Busy',
    'state.wrapup': 'Wrap-up',
    'state.away': 'Away',
    'reason.break': 'Break',
    'reason.lunch': 'Lunch',
    'reason.training': 'Training',
    'reason.other': 'Other',

    'cstate.queued': 'Queued',
    'cstate.offered': 'Offered',
    'cstate.active': 'Active',
    'cstate.wrapup': 'Wrap-up',
    'cstate.closed': 'Closed',
    'cstate.abandoned': 'Abandoned',

    'channel.voice': 'Voice',
    'channel.chat': 'Chat',
    'channel.email': 'Email',
    'channel.sms': 'SMS',

    'tier.platinum': 'Platinum',
    'tier.gold': 'Gold',
    'tier.silver': 'Silver',
    'tier.bronze': 'Bronze',
    'tier.standard': 'Standard',
    'tier.pinned': 'pinned',

    'offer.heading': 'Incoming {channel} contact',
    'offer.announce': 'Incoming {channel} contact from {name}. Press Alt+A to accept, Alt+D to decline.',
    'offer.withdrawn': 'Offer withdrawn: {reason}',
    'offer.withdrawn.timeout': 'time ran out',
    'offer.withdrawn.taken': 'taken by another agent',
    'offer.withdrawn.abandoned': 'the customer left',
    'offer.withdrawn.declined': 'declined',
    'offer.accept': 'Accept',
    'offer.decline': 'Decline',
    'offer.shortcut.accept': 'Alt+A',
    'offer.shortcut.decline': 'Alt+D',
    'offer.remaining': '{s} s left',
    'offer.expired': 'Expired',
    'offer.more': '+{n} more waiting',
    'offer.collision': 'Also being handled by: {names}',
    'offer.queue': 'Queue: {queue}',
    'offer.subject': 'Subject: {subject}',
    'offer.accepted': 'Accepted.',

    'profile.heading': 'Customer',
    'profile.value': 'Value score',
    'profile.clv': 'CLV',
    'profile.rfm': 'RFM',
    'profile.abc': 'ABC class',
    'profile.key_account': 'Key account',
    'profile.lifecycle': 'Lifecycle',
    'profile.quadrant': 'Satisfaction × loyalty',
    'profile.last_csat': 'Last CSAT',
    'profile.orders': 'Orders',
    'profile.orders.value': '{count} orders, {total}',
    'profile.hint': 'Handling hint',
    'profile.recent': 'Recent contacts',
    'profile.complaints': 'Open complaints',
    'profile.none': 'None',
    'profile.company': 'Company',
    'profile.identities': 'Known as',
    'profile.due': 'due {at}',
    'profile.unknown': 'Unknown customer',

    'lifecycle.prospect': 'Prospect',
    'lifecycle.new': 'New',
    'lifecycle.active': 'Active',
    'lifecycle.at_risk': 'At risk',
    'lifecycle.lapsed': 'Lapsed',
    'quadrant.loyal': 'Loyal',
    'quadrant.hostage': 'Hostage (at risk)',
    'quadrant.mercenary': 'Mercenary',
    'quadrant.defecting': 'Defecting',
    'segment.high_value': 'high value',
    'segment.retain': 'retain',
    'segment.new': 'new',
    'segment.low_value': 'low value',
    'segment.regular': 'regular',

    'unknown.identity': 'Identity',
    'unknown.link': 'Link to existing customer',
    'unknown.search.label': 'Search by phone or email',
    'unknown.search': 'Search',
    'unknown.results': 'Matching customers',
    'unknown.noresults': 'No customer found.',
    'unknown.link.one': 'Link',
    'unknown.create': 'Create customer',
    'unknown.create.name': 'Customer name',
    'unknown.create.submit': 'Create',
    'unknown.linked': 'Identity linked to {name}.',
    'unknown.created': 'Customer {name} created.',

    'contacts.heading': 'My contacts',
    'contacts.empty': 'No active contacts. Go available to receive offers.',
    'contacts.unread': '{n} unread',

    'detail.empty': 'Select a contact to see the conversation.',
    'detail.from': 'From {from}',
    'detail.end': 'End contact',
    'detail.transfer': 'Transfer',
    'conv.label': 'Conversation',
    'conv.empty': 'No messages yet.',
    'conv.you': 'You',
    'conv.customer': 'Customer',
    'conv.note': 'Internal note',
    'conv.typing': 'Customer is typing…',
    'conv.attachments': 'Attachments',
    'reply.label': 'Reply',
    'reply.placeholder': 'Type a reply… (Ctrl+Enter to send)',
    'reply.send': 'Send',
    'reply.note': 'Add internal note',
    'canned.label': 'Canned response',
    'canned.choose': 'Insert canned response…',

    'call.state': 'Call',
    'call.ringing': 'Ringing',
    'call.talking': 'Talking',
    'call.held': 'On hold',
    'call.ended': 'Call ended',
    'call.duration': 'Duration',
    'call.hangup': 'Hang up',
    'call.transfer': 'Transfer call',

    'tags.heading': 'Tags',
    'tags.add': 'Add tag',
    'tags.placeholder': 'New tag',
    'tags.remove': 'Remove tag {tag}',
    'tags.none': 'No tags.',

    'transfer.heading': 'Transfer',
    'transfer.to': 'Transfer to',
    'transfer.queue': 'Queue',
    'transfer.agent': 'Agent',
    'transfer.target': 'Target',
    'transfer.note': 'Note for the next agent',
    'transfer.submit': 'Transfer',
    'transfer.done': 'Contact transferred.',
    'transfer.waiting': '{name} ({n} waiting)',

    'timeline.heading': 'Customer timeline',
    'timeline.empty': 'No history.',
    'timeline.contact': 'Contact',
    'timeline.order': 'Order',
    'timeline.complaint': 'Complaint',
    'timeline.feedback': 'Feedback',

    'wrapup.heading': 'Wrap-up',
    'wrapup.disposition': 'Disposition',
    'wrapup.notes': 'Notes',
    'wrapup.submit': 'Finish wrap-up',
    'wrapup.done': 'Contact closed.',
    'disp.resolved': 'Resolved',
    'disp.follow_up': 'Follow-up needed',
    'disp.no_answer': 'No answer',
    'disp.wrong_number': 'Wrong number',
    'disp.other': 'Other',

    'complaint.open': 'Log complaint',
    'complaint.heading': 'Log a complaint',
    'complaint.category': 'Category',
    'complaint.severity': 'Severity',
    'complaint.description': 'Description',
    'complaint.submit': 'Save complaint',
    'complaint.done': 'Complaint logged.',
    'complaint.nocustomer': 'Link or create the customer first.',
    'cat.product': 'Product',
    'cat.service_attitude': 'Service attitude',
    'cat.delivery': 'Delivery',
    'cat.billing': 'Billing',
    'cat.other': 'Other',
    'sev.critical': 'Critical',
    'sev.high': 'High',
    'sev.normal': 'Normal',
    'sev.low': 'Low',

    'feedback.open': 'Record feedback',
    'feedback.heading': 'Record feedback',
    'feedback.csat': 'Satisfaction (1–5)',
    'feedback.nps': 'Likelihood to recommend (0–10, optional)',
    'feedback.comment': 'Comment',
    'feedback.submit': 'Save feedback',
    'feedback.done': 'Feedback recorded.',

    'common.cancel': 'Cancel',
    'common.close': 'Close',
    'common.error': 'Error: {error}',
    'common.loading': 'Loading…',
    'common.dismiss': 'Dismiss',
  },
  zh: {
    'app.name': 'ContactHub',
    'app.title': 'ContactHub 坐席工作台',
    'lang.label': '语言',
    'skip.main': '跳到工作区',

    'login.title': '登录',
    'login.heading': '登录 ContactHub',
    'login.name': '用户名',
    'login.password': '密码',
    'login.submit': '登录',
    'login.busy': '正在登录…',
    'login.invalid': '用户名或密码错误',
    'login.throttled': '尝试次数过多，请稍候一分钟再试。',
    'login.failed': '登录失败：{error}',

    'header.agent': '坐席',
    'header.state': '我的状态',
    'header.reason': '原因',
    'header.logout': '退出登录',
    'phone.registered': '话机已注册',
    'phone.unregistered': '话机未注册',
    'conn.connecting': '正在连接…',
    'conn.lost': '连接已断开，正在重连…',
    'conn.ok': '已连接',

    'state.offline': '离线',
    'state.available': '空闲',
    'state.reserved': '已预留',
    'state.busy': '忙碌',
    'state.wrapup': '话后处理',
    'state.away': '暂离',
    'reason.break': '休息',
    'reason.lunch': '午餐',
    'reason.training': '培训',
    'reason.other': '其他',

    'cstate.queued': '排队中',
    'cstate.offered': '振铃中',
    'cstate.active': '进行中',
    'cstate.wrapup': '话后处理',
    'cstate.closed': '已关闭',
    'cstate.abandoned': '已放弃',

    'channel.voice': '电话',
    'channel.chat': '在线聊天',
    'channel.email': '邮件',
    'channel.sms': '短信',

    'tier.platinum': '白金',
    'tier.gold': '黄金',
    'tier.silver': '白银',
    'tier.bronze': '青铜',
    'tier.standard': '标准',
    'tier.pinned': '手动指定',

    'offer.heading': '新的{channel}接入',
    'offer.announce': '来自 {name} 的新{channel}接入。按 Alt+A 接受，Alt+D 拒绝。',
    'offer.withdrawn': '接入已撤回：{reason}',
    'offer.withdrawn.timeout': '超时',
    'offer.withdrawn.taken': '已被其他坐席接起',
    'offer.withdrawn.abandoned': '客户已离开',
    'offer.withdrawn.declined': '已拒绝',
    'offer.accept': '接受',
    'offer.decline': '拒绝',
    'offer.shortcut.accept': 'Alt+A',
    'offer.shortcut.decline': 'Alt+D',
    'offer.remaining': '剩余 {s} 秒',
    'offer.expired': '已超时',
    'offer.more': '还有 {n} 个等待中',
    'offer.collision': '其他坐席也在处理：{names}',
    'offer.queue': '队列：{queue}',
    'offer.subject': '主题：{subject}',
    'offer.accepted': '已接受。',

    'profile.heading': '客户',
    'profile.value': '价值评分',
    'profile.clv': '客户终身价值',
    'profile.rfm': 'RFM',
    'profile.abc': 'ABC 分类',
    'profile.key_account': '关键客户',
    'profile.lifecycle': '生命周期',
    'profile.quadrant': '满意度 × 忠诚度',
    'profile.last_csat': '最近满意度',
    'profile.orders': '订单',
    'profile.orders.value': '{count} 笔订单，共 {total}',
    'profile.hint': '处理建议',
    'profile.recent': '近期联络',
    'profile.complaints': '未结投诉',
    'profile.none': '无',
    'profile.company': '公司',
    'profile.identities': '联系方式',
    'profile.due': '截止 {at}',
    'profile.unknown': '未知客户',

    'lifecycle.prospect': '潜在客户',
    'lifecycle.new': '新客户',
    'lifecycle.active': '活跃',
    'lifecycle.at_risk': '有流失风险',
    'lifecycle.lapsed': '已流失',
    'quadrant.loyal': '忠诚型',
    'quadrant.hostage': '囚禁型（有风险）',
    'quadrant.mercenary': '唯利型',
    'quadrant.defecting': '背叛型',
    'segment.high_value': '高价值',
    'segment.retain': '需挽留',
    'segment.new': '新客户',
    'segment.low_value': '低价值',
    'segment.regular': '一般',

    'unknown.identity': '来电/来信身份',
    'unknown.link': '关联到已有客户',
    'unknown.search.label': '按电话或邮箱搜索',
    'unknown.search': '搜索',
    'unknown.results': '匹配的客户',
    'unknown.noresults': '未找到客户。',
    'unknown.link.one': '关联',
    'unknown.create': '新建客户',
    'unknown.create.name': '客户名称',
    'unknown.create.submit': '创建',
    'unknown.linked': '已关联到 {name}。',
    'unknown.created': '已创建客户 {name}。',

    'contacts.heading': '我的会话',
    'contacts.empty': '暂无进行中的会话。切换为空闲即可接收分配。',
    'contacts.unread': '{n} 条未读',

    'detail.empty': '选择一个会话以查看内容。',
    'detail.from': '来自 {from}',
    'detail.end': '结束会话',
    'detail.transfer': '转接',
    'conv.label': '会话内容',
    'conv.empty': '暂无消息。',
    'conv.you': '我',
    'conv.customer': '客户',
    'conv.note': '内部备注',
    'conv.typing': '客户正在输入…',
    'conv.attachments': '附件',
    'reply.label': '回复',
    'reply.placeholder': '输入回复…（Ctrl+Enter 发送）',
    'reply.send': '发送',
    'reply.note': '添加内部备注',
    'canned.label': '常用回复',
    'canned.choose': '插入常用回复…',

    'call.state': '通话',
    'call.ringing': '振铃中',
    'call.talking': '通话中',
    'call.held': '保持中',
    'call.ended': '通话已结束',
    'call.duration': '时长',
    'call.hangup': '挂断',
    'call.transfer': '转接通话',

    'tags.heading': '标签',
    'tags.add': '添加标签',
    'tags.placeholder': '新标签',
    'tags.remove': '删除标签 {tag}',
    'tags.none': '无标签。',

    'transfer.heading': '转接',
    'transfer.to': '转接到',
    'transfer.queue': '队列',
    'transfer.agent': '坐席',
    'transfer.target': '目标',
    'transfer.note': '给下一位坐席的备注',
    'transfer.submit': '转接',
    'transfer.done': '会话已转接。',
    'transfer.waiting': '{name}（{n} 个等待）',

    'timeline.heading': '客户时间线',
    'timeline.empty': '暂无记录。',
    'timeline.contact': '联络',
    'timeline.order': '订单',
    'timeline.complaint': '投诉',
    'timeline.feedback': '评价',

    'wrapup.heading': '话后处理',
    'wrapup.disposition': '处理结果',
    'wrapup.notes': '备注',
    'wrapup.submit': '完成话后处理',
    'wrapup.done': '会话已关闭。',
    'disp.resolved': '已解决',
    'disp.follow_up': '需跟进',
    'disp.no_answer': '无人应答',
    'disp.wrong_number': '打错电话',
    'disp.other': '其他',

    'complaint.open': '登记投诉',
    'complaint.heading': '登记投诉',
    'complaint.category': '类别',
    'complaint.severity': '严重程度',
    'complaint.description': '描述',
    'complaint.submit': '保存投诉',
    'complaint.done': '投诉已登记。',
    'complaint.nocustomer': '请先关联或新建客户。',
    'cat.product': '产品',
    'cat.service_attitude': '服务态度',
    'cat.delivery': '配送',
    'cat.billing': '账单',
    'cat.other': '其他',
    'sev.critical': '紧急',
    'sev.high': '高',
    'sev.normal': '一般',
    'sev.low': '低',

    'feedback.open': '记录评价',
    'feedback.heading': '记录客户评价',
    'feedback.csat': '满意度（1–5）',
    'feedback.nps': '推荐意愿（0–10，可选）',
    'feedback.comment': '评论',
    'feedback.submit': '保存评价',
    'feedback.done': '评价已记录。',

    'common.cancel': '取消',
    'common.close': '关闭',
    'common.error': '错误：{error}',
    'common.loading': '加载中…',
    'common.dismiss': '关闭',
  },
};

const STORAGE_KEY = 'contacthub.lang';
export const languages = [
  { code: 'en', label: 'English', html: 'en' },
  { code: 'zh', label: '简体中文', html: 'zh-CN' },
];

function initialLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && dict[saved]) return saved;
  } catch { /* storage disabled */ }
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  return nav.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

let current = initialLang();
const listeners = [];

export function lang() { return current; }

// locale is the BCP 47 tag for Intl formatting.
export function locale() { return current === 'zh' ? 'zh-CN' : 'en'; }

export function t(key, vars) {
  let s = dict[current][key];
  if (s === undefined) s = dict.en[key];
  if (s === undefined) {
    console.warn('i18n: missing key', key);
    s = key;
  }
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
  return s;
}

// has reports whether key exists (for optional labels such as tier names).
export function has(key) { return dict.en[key] !== undefined; }

export function setLang(code) {
  if (!dict[code]) return;
  current = code;
  try { localStorage.setItem(STORAGE_KEY, code); } catch { /* ignore */ }
  applyI18n(document);
  for (const f of listeners) f(code);
}

export function onLangChange(f) { listeners.push(f); }

export function applyI18n(root) {
  const l = languages.find((x) => x.code === current);
  document.documentElement.lang = l ? l.html : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  const title = document.querySelector('title[data-i18n]');
  if (title) document.title = t(title.dataset.i18n);
}

// bindLangSelect fills a <select> with the languages and wires it.
export function bindLangSelect(sel) {
  sel.textContent = '';
  for (const l of languages) {
    const o = document.createElement('option');
    o.value = l.code;
    o.textContent = l.label;
    o.lang = l.html;
    sel.append(o);
  }
  sel.value = current;
  sel.addEventListener('change', () => setLang(sel.value));
}

export const dictionary = dict; // for tests: both languages have the same keys
