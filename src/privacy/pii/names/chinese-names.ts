/**
 * Chinese surnames: the ~300 most common single-character surnames (by the population counts of
 * the 2020 census ranking, which cover well over 95% of people) and the compound surnames of the
 * 百家姓. Plus the characters most used in given names, for recognising names without a cue word.
 */
const singleSurnames =
  "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由";

export const chineseCompoundSurnames: readonly string[] = [
  "欧阳",
  "司马",
  "上官",
  "诸葛",
  "东方",
  "皇甫",
  "尉迟",
  "公孙",
  "慕容",
  "令狐",
  "长孙",
  "宇文",
  "司徒",
  "夏侯",
  "轩辕",
  "端木",
  "独孤",
  "南宫",
  "西门",
  "百里",
  "呼延",
  "闻人",
  "东郭",
  "钟离",
  "澹台",
  "公冶",
  "宗政",
  "濮阳",
  "太叔",
  "申屠",
  "仲孙",
  "万俟",
  "赫连",
  "单于",
  "拓跋",
  "司空",
  "第五",
];

export const chineseSingleSurnames: ReadonlySet<string> = new Set(Array.from(singleSurnames));

/**
 * Characters common in given names. Deliberately leaves out characters that mostly build ordinary
 * words (国, 家, 民, 生, 中, 大, 天 …) so "王国家" is not taken for a name without a cue.
 */
export const chineseGivenNameChars: ReadonlySet<string> = new Set(
  Array.from(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛超秀英霞刚桂飞鹏宇浩婷雪琳晨欣怡梓轩涵博斌辉峰亮燕萍慧颖佳倩俊鑫晓波凯健嘉瑞鸿思雨悦诗梦瑶琪璐妍昊睿泽哲翔毅帆航晖辰逸铭皓宸煜烨彤蕾薇莉莹淑兰凤梅珍玉芬美春红霞云龙虎豪威雄彬松柏荣贵福祥庆喜德仁义智忠宏耀永泰顺兴旺盛昌隆振宝丹彩琴瑾琦瑜璇珊娇媛婉嫣姗蓉芸芝茜萱蓓菲苗蕊岚曼惠聪捷雅贤良诚坚岩森淼焱垚宙洪浪源润瀚澄渊翰墨晗晴暄曦熙煊炜烁灿焕熠伦佩俐傲儒允兆凌凡剑勋卓卫君哲唯坤培崇巍帅希廷弘彦征怀恒恩扬承旭昆昕昭晋景曜朗栋桐楠欢武沛泓洁津淳渝滨潇澜灵炳烽玮珂琛琰瑛璞甜盈禹秋稳竹笑策筱素纯绍维缘羽翠舒芊芮芷苑若茂茹莎莲菊萌蒙蔚虹融衡裕谦贝越跃迪远锋锐雁雯霖露靖韬韵馨骏鸣鹤黎鼎娅婕婧媚妮娴婵嫦姝倪琼瑗璐佑祺祯禧秀莺楠桦樱彪猛磊钢铁锦镇",
  ),
);
