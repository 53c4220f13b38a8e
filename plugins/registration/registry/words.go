package registry

import "strings"

// Word lists of the generator. Trade-name (字号) characters come roughly in
// order of popularity, so the generator's skewed pick makes the popular ones
// "hot" (R47/R48) the way real registries are.

// tradeChars are single characters combined into 2- and 3-character 字号.
var tradeChars = dedupRunes(`华鑫盛源泰达恒信瑞丰宏德汇金隆安嘉鼎博新宇祥和兴诚亿辉通美佳睿晟浩天中创联昊海蓝
宝优康阳益欣众合建正弘远成顺锦禾铭科尚卓荣聚峰瀚捷晨乐润升福万方东明启晶辰旭光翔云景发志坤讯豪伟昌泽
永茂凯腾飞骏逸英翰臻致雅轩颐晖耀鹏朗皓澜沁璟昕珂琪璞钧铂钰锐铖烁煜焕灿炜暄曦晔霖霏霆雯露川江河湖溪泉涛
沛洋溢淳清澄泓渊潮浦申沪松菁苑芯茗荟蔚萱蓉芊葆藤桦楠梧桐柏杉林森栋材标格桥榕樱枫雨雪岚峻岭崇屹岩磊石坚
固钢银铜瓷玉琳瑶璇珏玺瑾珍珠翠碧青紫朱丹彤红橙绿白斯塔普拉诺威克迪尔特奥莱默卡伦顿菲贝赛摩纳凡欧亚
麦希尼泊驰骋骐麟鸿鹤雁燕凤龙虎豹鲸鲲航舟帆港湾岛屿洲际宸宏宁静韵律音符诗书画墨砚笔纸品典精粹匠工艺
思维智慧德仁义礼信忠孝勤俭朴真善惠利嘉禧祺祯祥瑞喜悦欢庆乐享悠然逸致远近高深厚广博大`)

// tradeWords are ready-made 字号 (2–4 characters), real-looking and
// deliberately not well-known brands.
var tradeWords = strings.Fields(`东方 华夏 中天 金桥 浦江 申城 海纳 星辰 蓝天 博远 瑞丰 天元 宏图 鼎盛 恒通 永信
金鼎 长江 九州 四海 百川 千禧 万象 星河 银河 紫金 青山 绿洲 朝阳 晨光 春晖 秋实 明德 至诚 厚德 立信 和信 安泰
宝隆 华美 亚太 环球 世纪 未来 创新 智汇 慧谷 云端 数联 易达 快捷 诚信 精诚 同心 协力 合力 众诚 聚力 凯达 嘉禾
康华 泰和 丰泽 汇鑫 金禾 北辰 龙腾 凤翔 鲲鹏 麒麟 锦程 鹏程 远航 启航 领航 卓越 优品 尚品 精工 匠心 本源 初心
乐享 悦享 申江 沪东 浦南 淞沪 崇光 松韵 青溪 天成 地利 人和 万通 百联 千帆 三友 五星 七彩 八方 十全 一诺 双赢
蓝海 红杉 金穗 银杏 翡翠 琥珀 水晶 钻石`)

// translitWords are transliterated 字号, popular with foreign-invested and
// technology companies.
var translitWords = strings.Fields(`普拉斯 诺威 克莱特 迪卡 奥特 莱茵 卡尔 菲斯特 威尔 斯坦 阿尔法 贝塔 泰克 科瑞 赛特 凯斯 达克 摩尔 尼克 欧瑞
麦迪 希诺 帕斯卡 伯恩 格林 维多 索菲 安迪 艾克斯 瑞思 博世通 康耐 迈克 奥斯汀 斯诺 菲利 赛诺 杰森`)

// industry is a 行业表述 with its GB/T 4754-2017 section and division.
type industry struct {
	word   string
	code   string // section letter + 2-digit division
	weight float64
}

// companyIndustries are 行业表述 of companies, partnerships and sole
// proprietorships.
var companyIndustries = []industry{
	{"信息科技", "I65", 10}, {"网络科技", "I64", 7}, {"科技发展", "M75", 5}, {"智能科技", "M75", 4},
	{"电子科技", "M75", 3}, {"生物科技", "M73", 2}, {"医药科技", "M73", 1}, {"环保科技", "M75", 2},
	{"新能源科技", "M75", 1}, {"教育科技", "M75", 1}, {"软件技术", "I65", 1}, {"数据科技", "I65", 1},
	{"贸易", "F51", 8}, {"商贸", "F51", 4}, {"国际贸易", "F51", 2}, {"进出口", "F51", 1}, {"实业", "F51", 3},
	{"电子商务", "F52", 2}, {"供应链管理", "L72", 2}, {"企业管理咨询", "L72", 4}, {"商务咨询", "L72", 3},
	{"管理咨询", "L72", 2}, {"投资管理", "L72", 2}, {"资产管理", "L72", 1}, {"企业管理", "L72", 2},
	{"文化传播", "R87", 3}, {"文化传媒", "R87", 2}, {"广告", "L72", 2}, {"会展服务", "L72", 1},
	{"人力资源", "L72", 1}, {"物业管理", "K70", 2}, {"房地产开发", "K70", 1}, {"房地产经纪", "K70", 1},
	{"建筑工程", "E47", 2}, {"建设工程", "E48", 1}, {"装饰工程", "E50", 2}, {"机电设备", "F51", 2},
	{"机械设备", "C34", 1}, {"自动化设备", "C35", 1}, {"精密机械", "C34", 0.5}, {"电气", "C38", 1},
	{"塑料制品", "C29", 0.5}, {"服饰", "F51", 1}, {"食品", "F51", 1}, {"物流", "G58", 2}, {"货运代理", "G58", 1},
	{"运输", "G54", 1}, {"仓储", "G59", 0.5}, {"餐饮管理", "H62", 1.5}, {"酒店管理", "H61", 0.5},
	{"健康管理", "Q84", 1}, {"医疗器械", "F51", 1}, {"教育培训", "P83", 0.5}, {"体育发展", "R88", 0.5},
	{"影视文化", "R86", 0.5}, {"汽车服务", "O81", 1}, {"家政服务", "O80", 0.5}, {"农业发展", "A01", 0.5},
	{"园艺", "A05", 0.3}, {"金融信息服务", "J69", 0.3}, {"融资租赁", "L71", 0.3}, {"环境工程", "N77", 0.5},
	{"能源", "D44", 0.3}, {"新材料", "C26", 0.5}, {"化工", "F51", 0.5}, {"包装材料", "C22", 0.3},
	{"印刷", "C23", 0.3}, {"设计", "M74", 1}, {"工程技术", "M74", 0.5}, {"检测技术", "M74", 0.3},
	{"知识产权代理", "L72", 0.2}, {"旅游", "L72", 0.3},
}

// factoryWords are industries that name a 厂 (state-owned factories).
var factoryWords = []industry{
	{"塑料制品", "C29", 1}, {"机械", "C34", 1}, {"电器", "C38", 1}, {"服装", "C18", 1}, {"纺织", "C17", 1},
	{"食品", "C14", 1}, {"印刷", "C23", 1}, {"五金", "C33", 1}, {"化工", "C26", 1}, {"仪表", "C40", 1},
}

// shopIndustries are what individual businesses (个体工商户) are named after.
var shopIndustries = []industry{
	{"小吃店", "H62", 6}, {"面馆", "H62", 3}, {"餐厅", "H62", 2}, {"饭店", "H62", 2}, {"餐饮店", "H62", 3},
	{"点心店", "H62", 1}, {"奶茶店", "H62", 1.5}, {"咖啡馆", "H62", 0.8}, {"熟食店", "F52", 1},
	{"便利店", "F52", 5}, {"超市", "F52", 2}, {"食品店", "F52", 2}, {"水果店", "F52", 2.5}, {"烟杂店", "F52", 3},
	{"副食品店", "F52", 1}, {"五金店", "F52", 2}, {"五金建材商行", "F52", 1}, {"建材经营部", "F52", 1},
	{"服装店", "F52", 3}, {"鞋店", "F52", 1}, {"日用百货商店", "F52", 2}, {"文具店", "F52", 0.5},
	{"花店", "F52", 0.8}, {"茶叶店", "F52", 0.8}, {"眼镜店", "F52", 0.4}, {"手机店", "F52", 1},
	{"电器商行", "F52", 1}, {"美发店", "O80", 2.5}, {"理发店", "O80", 1.5}, {"美容店", "O80", 1.5},
	{"美甲店", "O80", 0.8}, {"足浴店", "O80", 0.5}, {"洗衣店", "O80", 0.8}, {"摄影工作室", "O80", 0.5},
	{"汽车修理部", "O81", 1.5}, {"电动车维修部", "O81", 1}, {"家电维修部", "O81", 0.8}, {"手机维修店", "O81", 0.8},
	{"装潢工作室", "E50", 0.8}, {"设计工作室", "M74", 0.6}, {"图文制作部", "O82", 0.6}, {"棋牌室", "R89", 0.5},
	{"健身工作室", "R88", 0.3}, {"快递服务部", "G60", 0.5}, {"水产店", "F52", 0.8}, {"蔬菜店", "F52", 1},
	{"肉食店", "F52", 0.6}, {"粮油店", "F52", 0.8},
}

// coopIndustries name farmers' professional cooperatives.
var coopIndustries = []industry{
	{"蔬菜专业合作社", "A01", 3}, {"水稻专业合作社", "A01", 2}, {"果蔬专业合作社", "A01", 2},
	{"养殖专业合作社", "A03", 1}, {"水产养殖专业合作社", "A04", 1}, {"农机专业合作社", "A05", 1},
	{"花卉专业合作社", "A01", 1},
}

// partnershipWords name limited partnerships (investment vehicles).
var partnershipWords = []industry{
	{"投资管理", "L72", 3}, {"企业管理", "L72", 3}, {"管理咨询", "L72", 2}, {"创业投资", "J67", 2},
	{"股权投资", "J67", 2}, {"企业管理咨询", "L72", 2}, {"信息科技", "I65", 1},
}

// soleSuffixes end the names of 个人独资企业.
var soleSuffixes = strings.Fields("工作室 经营部 商行 服务部 中心")

// IndustrySections are the GB/T 4754-2017 sections (门类).
var IndustrySections = map[byte]string{
	'A': "农、林、牧、渔业", 'B': "采矿业", 'C': "制造业", 'D': "电力、热力、燃气及水生产和供应业",
	'E': "建筑业", 'F': "批发和零售业", 'G': "交通运输、仓储和邮政业", 'H': "住宿和餐饮业",
	'I': "信息传输、软件和信息技术服务业", 'J': "金融业", 'K': "房地产业", 'L': "租赁和商务服务业",
	'M': "科学研究和技术服务业", 'N': "水利、环境和公共设施管理业", 'O': "居民服务、修理和其他服务业",
	'P': "教育", 'Q': "卫生和社会工作", 'R': "文化、体育和娱乐业", 'S': "公共管理、社会保障和社会组织", 'T': "国际组织",
}

// Person names.
var surnames = strings.Fields(`王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯
邓 曹 彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 廖 贾 夏 韦
付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃 武 戴 莫 孔 向 汤 欧阳 司马 上官 诸葛`)

var givenChars = dedupRunes(`伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英霞平刚华建俊红玲斌峰辉鹏晨浩宇婷雪琳颖佳欣怡涵梓轩
文博志国庆春梅兰凤萍燕蕾薇瑶晶晓东海波宁凯亮健彬毅飞翔龙云雷昊然睿哲思远嘉懿瑞宏诚铭琦瑾昕悦萌心妍`)

// CompoundSurnames are two-character surnames (欧阳 …); masking keeps them whole.
var CompoundSurnames = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "夏侯", "令狐", "司徒", "端木", "独孤"}

// Places: towns and sub-districts (街镇) and roads per district, in the
// order of Districts.
var towns = [16][]string{
	strings.Fields("南京东路街道 外滩街道 半淞园路街道 小东门街道 豫园街道 老西门街道 五里桥街道 打浦桥街道 淮海中路街道 瑞金二路街道"),
	strings.Fields("天平路街道 湖南路街道 斜土路街道 枫林路街道 长桥街道 田林街道 虹梅路街道 康健新村街道 徐家汇街道 凌云路街道 龙华街道 漕河泾街道 华泾镇"),
	strings.Fields("华阳路街道 江苏路街道 新华路街道 周家桥街道 天山路街道 仙霞新村街道 虹桥街道 程家桥街道 北新泾街道 新泾镇"),
	strings.Fields("江宁路街道 石门二路街道 南京西路街道 静安寺街道 曹家渡街道 天目西路街道 北站街道 宝山路街道 共和新路街道 大宁路街道 彭浦新村街道 临汾路街道 芷江西路街道 彭浦镇"),
	strings.Fields("曹杨新村街道 长风新村街道 长寿路街道 甘泉路街道 石泉路街道 宜川路街道 万里街道 真如镇街道 长征镇 桃浦镇"),
	strings.Fields("欧阳路街道 曲阳路街道 广中路街道 嘉兴路街道 凉城新村街道 四川北路街道 北外滩街道 江湾镇街道"),
	strings.Fields("定海路街道 平凉路街道 江浦路街道 四平路街道 控江路街道 长白新村街道 延吉新村街道 殷行街道 大桥街道 五角场街道 新江湾城街道 长海路街道"),
	strings.Fields("江川路街道 古美街道 新虹街道 浦锦街道 莘庄镇 七宝镇 颛桥镇 华漕镇 虹桥镇 梅陇镇 吴泾镇 马桥镇 浦江镇"),
	strings.Fields("友谊路街道 吴淞街道 张庙街道 庙行镇 淞南镇 高境镇 大场镇 杨行镇 月浦镇 罗泾镇 罗店镇 顾村镇"),
	strings.Fields("新成路街道 真新街道 嘉定镇街道 南翔镇 安亭镇 马陆镇 徐行镇 华亭镇 外冈镇 江桥镇"),
	strings.Fields(`潍坊新村街道 陆家嘴街道 周家渡街道 塘桥街道 上钢新村街道 南码头路街道 沪东新村街道 金杨新村街道 洋泾街道
浦兴路街道 东明路街道 花木街道 川沙新镇 高桥镇 北蔡镇 合庆镇 唐镇 曹路镇 金桥镇 高行镇 高东镇 张江镇 三林镇 惠南镇
周浦镇 新场镇 大团镇 康桥镇 航头镇 祝桥镇 泥城镇 宣桥镇 书院镇 万祥镇 老港镇 南汇新城镇`),
	strings.Fields("石化街道 朱泾镇 枫泾镇 张堰镇 亭林镇 吕巷镇 廊下镇 金山卫镇 漕泾镇 山阳镇"),
	strings.Fields("岳阳街道 永丰街道 方松街道 中山街道 广富林街道 九里亭街道 泗泾镇 佘山镇 车墩镇 新桥镇 洞泾镇 九亭镇 泖港镇 石湖荡镇 新浜镇 叶榭镇 小昆山镇"),
	strings.Fields("夏阳街道 盈浦街道 香花桥街道 朱家角镇 练塘镇 金泽镇 赵巷镇 徐泾镇 华新镇 重固镇 白鹤镇"),
	strings.Fields("西渡街道 奉浦街道 金海街道 南桥镇 奉城镇 庄行镇 金汇镇 四团镇 青村镇 柘林镇 海湾镇"),
	strings.Fields("城桥镇 堡镇 新河镇 庙镇 竖新镇 向化镇 三星镇 港沿镇 中兴镇 陈家镇 绿华镇 港西镇 建设镇 新海镇 东平镇 长兴镇 新村乡 横沙乡"),
}

var roads = [16][]string{
	strings.Fields("南京东路 淮海中路 西藏南路 河南南路 中山南路 复兴中路 瑞金二路 建国中路 陆家浜路 延安东路 北京东路 福州路 九江路 四川中路 打浦路 制造局路"),
	strings.Fields("漕溪北路 虹桥路 肇嘉浜路 衡山路 天钥桥路 宜山路 田林路 钦州路 龙华中路 漕宝路 桂平路 龙吴路 斜土路 零陵路 钦江路 华泾路"),
	strings.Fields("延安西路 天山路 仙霞路 古北路 娄山关路 长宁路 中山西路 茅台路 金钟路 北翟路 哈密路 淞虹路 定西路 遵义路 安化路"),
	strings.Fields("南京西路 延安中路 江宁路 北京西路 新闸路 共和新路 天目西路 万荣路 汶水路 场中路 西藏北路 平型关路 永和路 广中西路 灵石路 恒丰路"),
	strings.Fields("真北路 曹杨路 金沙江路 大渡河路 中山北路 武宁路 长寿路 光复西路 铜川路 祁连山南路 绥德路 桃浦路 真南路 怒江北路 岚皋路"),
	strings.Fields("四川北路 大连西路 曲阳路 东大名路 周家嘴路 西江湾路 海宁路 天宝路 欧阳路 广纪路 东江湾路 同心路 水电路 中山北一路 汶水东路"),
	strings.Fields("国定路 军工路 长阳路 四平路 控江路 平凉路 黄兴路 淞沪路 政通路 大连路 杨树浦路 殷行路 国权路 许昌路 隆昌路"),
	strings.Fields("莘松路 沪闵路 七莘路 虹井路 都市路 剑川路 吴中路 春申路 银都路 申长路 颛兴路 光华路 元江路 紫星路 江川路 浦星公路"),
	strings.Fields("牡丹江路 友谊路 逸仙路 沪太路 长江西路 殷高西路 蕰川路 泰和路 水产路 联杨路 富联路 月罗路 宝杨路 盘古路 真华路"),
	strings.Fields("城中路 博乐路 曹安公路 嘉松北路 胜辛路 叶城路 陈家山路 墨玉路 昌吉路 宝安公路 沪宜公路 嘉罗公路 裕民南路 清河路 金运路"),
	strings.Fields(`张江路 世纪大道 陆家嘴环路 东方路 浦东南路 张杨路 碧波路 金科路 祖冲之路 川沙路 华夏东路 南六公路 沪南公路
秀浦路 龙东大道 杨高北路 航头路 新金桥路 五洲大道 云汉路 海港大道 环湖西二路 康桥东路 周祝公路 外高桥富特北路`),
	strings.Fields("卫零路 龙胜路 金山大道 蒙山路 亭枫公路 卫清西路 板桥西路 朱平公路 新卫公路 漕廊公路 亭卫公路 金张公路 环东一路"),
	strings.Fields("人民北路 中山中路 荣乐东路 文诚路 广富林路 沪亭北路 泗砖公路 车峰路 长兴东路 叶旺路 茸梅路 谷阳北路 沪松公路 新松江路 九亭中心路"),
	strings.Fields("城中北路 公园路 华腾路 诸光路 盈港东路 业辉路 北青公路 沪青平公路 章练塘路 金商公路 外青松公路 淀山湖大道 崧泽大道 华青南路"),
	strings.Fields("解放东路 环城东路 南奉公路 奉浦大道 金海公路 望园路 五四公路 庄良路 沪杭公路 大叶公路 八字桥路 新四平公路 航南公路 奉炮公路"),
	strings.Fields("八一路 东门路 西门路 人民路 潘园公路 陈海公路 新开河路 东堡路 向宏路 宏海公路 北沿公路 三沙洪路 长江大道 富民沙路"),
}

// parks are the registration clusters (注册型园区) of the outer districts,
// where many companies are domiciled.
var parks = map[District][]string{
	Chongming: {"长兴镇潘园公路1800号%d号楼%d室（上海泰和经济发展区）", "城桥镇东门路%d号%d室（上海城桥经济开发区）", "陈家镇前裕公路%d号%d室（上海智慧岛数据产业园）"},
	Fengxian:  {"庄行镇南亭公路%d号%d室", "青村镇光明光卫路%d号%d幢", "金汇镇工业路%d号%d室"},
	Jinshan:   {"枫泾镇环东一路65弄%d号%d室", "亭林镇松隐工业区%d号%d室", "漕泾镇亭卫公路%d号%d室"},
	Qingpu:    {"华新镇华志路%d号%d幢", "青浦工业园区崧泽大道%d号%d室"},
}

// districtWeights is the share of entities domiciled in each district, in
// the order of Districts (outer districts host registration clusters).
var districtWeights = [16]float64{2.5, 3.5, 2.5, 3.5, 3, 2.5, 3, 9, 7, 10, 22, 5, 8, 6, 7, 6}

// foreignRegions are where foreign shareholders are registered.
var foreignRegions = strings.Fields("香港 新加坡 美国 日本 德国 英属维尔京群岛 韩国 台湾 法国 英国")

// provinces are resident-ID area codes of people from outside Shanghai.
var provinces = strings.Fields("320102 320583 330102 330203 340104 350203 360102 370102 410105 420106 430103 510107 610113 230102 220102 210102 130102 140105 450103 500103")

func dedupRunes(s string) []string {
	seen := map[rune]bool{}
	var out []string
	for _, r := range s {
		if r <= ' ' || r == '\n' || seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, string(r))
	}
	return out
}

// TradeNameWords returns the generator's 字号 characters and words (for tests
// and for the name-intelligence statistics, R48).
func TradeNameWords() (chars, words []string) {
	words = append(append([]string(nil), tradeWords...), translitWords...)
	return append([]string(nil), tradeChars...), words
}

// Towns returns the towns and sub-districts (街镇) of a district.
func Towns(d District) []string {
	if i := d.Index(); i >= 0 {
		return append([]string(nil), towns[i]...)
	}
	return nil
}
