package search

import (
	"sync"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Pinyin initials by the GB2312 trick: the 3,755 level-1 hanzi of GB 2312
// (0xB0A1–0xD7F9) are sorted by pinyin, so a character's initial is the
// last of these boundary characters whose code is ≤ its own. Level-2 hanzi
// (0xD8A1–0xF7FE) are sorted by radical instead; the common ones in names
// are listed in level2Initials. Characters outside GB 2312 have no initial.
var gbBoundaries = []struct {
	code    uint16
	initial byte
	char    rune // the boundary character, checked by the tests against the encoder
}{
	{0xB0A1, 'a', '啊'}, {0xB0C5, 'b', '芭'}, {0xB2C1, 'c', '擦'}, {0xB4EE, 'd', '搭'}, {0xB6EA, 'e', '蛾'},
	{0xB7A2, 'f', '发'}, {0xB8C1, 'g', '噶'}, {0xB9FE, 'h', '哈'}, {0xBBF7, 'j', '击'}, {0xBFA6, 'k', '喀'},
	{0xC0AC, 'l', '垃'}, {0xC2E8, 'm', '妈'}, {0xC4C3, 'n', '拿'}, {0xC5B6, 'o', '哦'}, {0xC5BE, 'p', '啪'},
	{0xC6DA, 'q', '期'}, {0xC8BB, 'r', '然'}, {0xC8F6, 's', '撒'}, {0xCBFA, 't', '塌'}, {0xCDDA, 'w', '挖'},
	{0xCEF4, 'x', '昔'}, {0xD1B9, 'y', '压'}, {0xD4D1, 'z', '匝'},
}

const gbLevel1End = 0xD7F9

// level2Initials covers level-2 GB 2312 characters (and a few beyond GB
// 2312) that are common in trade names and person names.
var level2Initials = map[rune]byte{
	'鑫': 'x', '晟': 's', '昊': 'h', '珂': 'k', '琪': 'q', '璟': 'j', '钧': 'j', '铂': 'b', '钰': 'y',
	'铖': 'c', '烁': 's', '煜': 'y', '炜': 'w', '暄': 'x', '曦': 'x', '晔': 'y', '霖': 'l', '霏': 'f',
	'霆': 't', '雯': 'w', '泓': 'h', '菁': 'j', '苑': 'y', '芯': 'x', '茗': 'm', '荟': 'h', '萱': 'x',
	'蓉': 'r', '芊': 'q', '葆': 'b', '桦': 'h', '楠': 'n', '梧': 'w', '榕': 'r', '岚': 'l', '屹': 'y',
	'琳': 'l', '瑶': 'y', '璇': 'x', '珏': 'j', '玺': 'x', '瑾': 'j', '彤': 't', '麟': 'l', '骐': 'q',
	'鲲': 'k', '宸': 'c', '砚': 'y', '禧': 'x', '祺': 'q', '祯': 'z', '翰': 'h', '皓': 'h', '昕': 'x',
	'瀚': 'h', '澜': 'l', '沁': 'q', '璞': 'p', '睿': 'r', '臻': 'z', '颐': 'y', '骏': 'j', '逸': 'y',
	'淼': 'm', '琦': 'q', '懿': 'y', '婷': 't', '怡': 'y', '涵': 'h', '梓': 'z', '轩': 'x', '娟': 'j',
	'蕾': 'l', '薇': 'w', '晖': 'h', '炫': 'x', '铄': 's', '鹏': 'p', '弘': 'h', '卓': 'z', '锦': 'j',
	'馨': 'x', '嘉': 'j', '琨': 'k', '珺': 'j', '晗': 'h', '赟': 'y', '喆': 'z', '玥': 'y', '昱': 'y',
	'翊': 'y', '骋': 'c', '灏': 'h', '钜': 'j', '铠': 'k', '锟': 'k', '镕': 'r', '堃': 'k', '燊': 's',
	'犇': 'b', '垚': 'y', '羿': 'y', '靓': 'l', '韬': 't', '飒': 's', '馥': 'f', '滢': 'y', '瑛': 'y',
	'瑜': 'y', '瑭': 't', '璐': 'l', '璨': 'c', '瓴': 'l', '甄': 'z', '皙': 'x', '盈': 'y', '祎': 'y',
	'禹': 'y', '秣': 'm', '筠': 'y', '箐': 'q', '纬': 'w', '绮': 'q', '缇': 't', '羲': 'x', '聿': 'y',
	'芮': 'r', '苒': 'r', '茜': 'q', '荔': 'l', '莘': 's', '莹': 'y', '菡': 'h', '萌': 'm', '蔚': 'w',
	'蘅': 'h', '衍': 'y', '诩': 'x', '谦': 'q', '贇': 'y', '轶': 'y', '迦': 'j', '邦': 'b', '钊': 'z',
	'钦': 'q', '铭': 'm', '锋': 'f', '阑': 'l', '隽': 'j', '雎': 'j', '霁': 'j', '靖': 'j', '頔': 'd',
	'颢': 'h', '飚': 'b', '骁': 'x', '鸥': 'o', '鸾': 'l', '鹭': 'l', '黛': 'd', '奕': 'y', '妍': 'y',
	'姝': 's', '娅': 'y', '婕': 'j', '嫣': 'y', '孜': 'z', '尧': 'y', '峥': 'z', '崴': 'w', '嵘': 'r',
	'巍': 'w', '彧': 'y', '忻': 'x', '恺': 'k', '悦': 'y', '戈': 'g', '拓': 't', '昶': 'c', '晏': 'y',
	'晞': 'x', '暐': 'w', '朔': 's', '杭': 'h', '杰': 'j', '枢': 's', '柘': 'z', '桀': 'j', '槿': 'j',
	'歆': 'x', '沅': 'y', '泷': 'l', '洵': 'x', '浔': 'x', '淇': 'q', '湘': 'x', '溥': 'p', '滔': 't',
	'漪': 'y', '潇': 'x', '濠': 'h', '炅': 'j', '炳': 'b', '烨': 'y', '焱': 'y', '熙': 'x', '燚': 'y',
	'牧': 'm', '犀': 'x', '玖': 'j', '玮': 'w', '珅': 's', '珩': 'h', '琛': 'c', '琰': 'y', '瑄': 'x',
	'瑗': 'y', '瑞': 'r', '璋': 'z', '璀': 'c', '骅': 'h', '闫': 'y', '覃': 'q', '蕰': 'w', '淞': 's',
	'泖': 'm', '佘': 's', '莺': 'y', '琥': 'h', '潢': 'h', '麒': 'q', '翡': 'f', '颛': 'z', '芷': 'z',
	'漕': 'c', '珀': 'p', '闵': 'm', '泾': 'j', '泗': 's', '榭': 'x', '浜': 'b', '迈': 'm', '枫': 'f', '淀': 'd', '崧': 's', '宁': 'n',
}

var initialsOnce sync.Once
var cjkInitials []byte // for U+4E00–U+9FFF, 0 when unknown

func buildInitials() {
	cjkInitials = make([]byte, 0x9FFF-0x4E00+1)
	enc := simplifiedchinese.GBK.NewEncoder()
	var buf [8]byte
	for r := rune(0x4E00); r <= 0x9FFF; r++ {
		nDst, _, err := enc.Transform(buf[:], []byte(string(r)), true)
		enc.Reset()
		if err != nil || nDst != 2 {
			continue
		}
		// GB 2312 proper has both bytes ≥ 0xA1; GBK's extensions that share
		// the lead bytes (trail byte < 0xA1) are not in pinyin order.
		code := uint16(buf[0])<<8 | uint16(buf[1])
		if buf[1] < 0xA1 || code < gbBoundaries[0].code || code > gbLevel1End {
			continue
		}
		var ini byte
		for _, b := range gbBoundaries {
			if code >= b.code {
				ini = b.initial
			}
		}
		cjkInitials[r-0x4E00] = ini
	}
	for r, ini := range level2Initials {
		if r >= 0x4E00 && r <= 0x9FFF {
			cjkInitials[r-0x4E00] = ini
		}
	}
}

// Initial is the pinyin initial of a Chinese character ('a'–'z'); a Latin
// letter or digit is itself (lower case); 0 for anything else.
func Initial(r rune) byte {
	switch {
	case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
		return byte(r)
	case r >= 'A' && r <= 'Z':
		return byte(r) + 'a' - 'A'
	case r >= 0x4E00 && r <= 0x9FFF:
		initialsOnce.Do(buildInitials)
		return cjkInitials[r-0x4E00]
	}
	return 0
}

// Initials is the string of pinyin initials of s, e.g. 恒瑞信息 → hrxx;
// characters without an initial are skipped.
func Initials(s string) string { return string(appendInitials(nil, s)) }

func appendInitials(dst []byte, s string) []byte {
	for _, r := range s {
		if b := Initial(r); b != 0 {
			dst = append(dst, b)
		}
	}
	return dst
}
