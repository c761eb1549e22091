"""Reference data of the Dongcheng demo: streets, communities, departments, outside bodies.

Street names, their GB/T 10114 codes (110101001 … 110101017) and approximate centres (GCJ-02)
are real. Community names are modelled on local hutong and estate names but the list is
illustrative, not the official roll. Departments and utilities are the district's real bodies.
Both the demo organisation and the demo grid are built from this one module.
"""

from dataclasses import dataclass

COUNTY_CODE = "110101"
DISTRICT_NAME = "东城区"
DISTRICT_CENTRE_CODE = COUNTY_CODE + "000"
DISTRICT_CENTRE_NAME = "东城区网格化服务管理中心"


@dataclass(frozen=True)
class Street:
    code: str
    name: str
    centre: tuple[float, float]  # lng, lat in GCJ-02
    communities: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.name}街道"

    def community_code(self, index: int) -> str:
        return f"{self.code}{index + 1:03d}"


def _street(seq: int, name: str, lng: float, lat: float, communities: str) -> Street:
    return Street(f"{COUNTY_CODE}{seq:03d}", name, (lng, lat), tuple(communities.split()))


STREETS: tuple[Street, ...] = (
    _street(1, "东华门", 116.403, 39.912, "多福巷 韶九 北池子 南池子 智德 东厂 东华门 正义路 台基厂"),
    _street(2, "景山", 116.397, 39.925, "景山东街 吉祥 黄化门 钟鼓 魏家 汪芝麻 三眼井"),
    _street(3, "交道口", 116.400, 39.936, "交东 福祥 大兴 府学 鼓楼苑 菊儿 南锣鼓巷 板厂"),
    _street(4, "安定门", 116.405, 39.945,
            "国子监 五道营 分司厅 钟楼湾 花园 车辇店 北锣鼓巷 宝钞南 方家 箭厂"),
    _street(5, "北新桥", 116.420, 39.942,
            "北新桥 民安 九道湾 海运仓 门楼 青龙 新太仓 东直门北 藏经馆 北官厅 十二条 前永康"),
    _street(6, "东四", 116.416, 39.928, "东四 豆瓣 钱粮 演乐 八条 六条 七条 三条 二条 礼士"),
    _street(7, "朝阳门", 116.425, 39.925, "史家 内务 竹杆 大方家 朝西 朝阳门 外交部街 遂安伯 朝内头条"),
    _street(8, "建国门", 116.427, 39.909,
            "赵家楼 金宝街 西总布 东总布 大雅宝 建国门 崇内 苏州胡同 东单 北京站 贡院"),
    _street(9, "东直门", 116.432, 39.940,
            "新中街 东外 东环 清水苑 北二里庄 香河园 东直门外 十字坡 东中街 幸福家园 雍和家园"),
    _street(10, "和平里", 116.417, 39.958,
            "和平里东 和平里西 小黄庄 外馆斜街 民旺 地坛 青年湖 化工 兴化 黄寺 安德里 光明 "
            "雍和宫 六铺炕 安定门外"),
    _street(11, "前门", 116.397, 39.896,
            "草厂 长巷头条 大江 西打磨厂 鲜鱼口 前门东 三里河 北孝顺 打磨厂 珠市口东 正阳"),
    _street(12, "崇文门外", 116.418, 39.896,
            "新怡家园 崇文门东大街 崇文门西大街 新世界家园 国瑞城 兴隆 西革新里 东打磨厂 新开路 "
            "磁器口 花市枣苑 南岗子"),
    _street(13, "东花市", 116.432, 39.892,
            "东花市北里东 东花市北里西 广渠门外南 忠实里 东花市斜街 广渠门内 白桥 榄杆市 夕照寺 东革新里"),
    _street(14, "龙潭", 116.436, 39.884,
            "龙潭北里 光明楼 板厂南里 左安门 新景家园 幸福里 华城 龙潭湖 法华寺 绿景苑 东水井 安化楼"),
    _street(15, "体育馆路", 116.424, 39.882, "体育馆路 法华南里 四块玉 东四块玉 天坛东里 长青园 红桥 光明里 幸福大街"),
    _street(16, "天坛", 116.405, 39.880, "金鱼池 西园子 东晓市 永内东街 天坛北 先农坛 永安路 精忠庙 东柳 天桥"),
    _street(17, "永定门外", 116.400, 39.862,
            "桃杨路 安乐林 景泰 琉璃井 李村 革新西里 宝华里 横街 彭庄 民主北街 沙子口"),
)

# Street sections (科室) every street sub-centre can dispatch to.
STREET_SECTIONS: tuple[str, ...] = (
    "城市管理办公室", "平安建设办公室", "社区建设办公室", "民生保障办公室", "综合行政执法队",
)


@dataclass(frozen=True)
class Body:
    code: str
    name: str
    short_name: str
    field_units_per_street: str | None = None  # name pattern of one field unit per street


# District departments (职能部门). Codes are ours; names are the district's real bodies.
DEPARTMENTS: tuple[Body, ...] = (
    Body("D001", "东城区城市管理委员会", "城管委"),
    Body("D002", "东城区城市管理综合行政执法局", "城管执法局", "{street}城管执法队"),
    Body("D003", "东城区住房和城乡建设委员会", "住建委"),
    Body("D004", "东城区园林绿化局", "园林绿化局"),
    Body("D005", "北京市生态环境局东城分局", "生态环境分局"),
    Body("D006", "东城区市场监督管理局", "市场监管局", "{street}市场监管所"),
    Body("D007", "东城区卫生健康委员会", "卫健委"),
    Body("D008", "东城区民政局", "民政局"),
    Body("D009", "东城区应急管理局", "应急管理局"),
    Body("D010", "东城区水务局", "水务局"),
    Body("D011", "东城区房屋管理局", "房管局"),
    Body("D012", "北京市公安局东城分局", "公安分局", "{street}派出所"),
    Body("D013", "北京市公安局公安交通管理局东城交通支队", "交通支队"),
    Body("D014", "北京市规划和自然资源委员会东城分局", "规自分局"),
    Body("D015", "东城区环境卫生服务中心", "环卫中心"),
    Body("D016", "东城区发展和改革委员会", "发改委"),
    Body("D017", "东城区教育委员会", "教委"),
    Body("D018", "东城区文化和旅游局", "文旅局"),
    Body("D019", "东城区商务局", "商务局"),
    Body("D020", "东城区消防救援支队", "消防救援支队"),
    Body("D021", "东城区人力资源和社会保障局", "人力社保局"),
    Body("D022", "东城区卫生健康监督所", "卫生监督所"),
    Body("D023", "东城区疾病预防控制中心", "疾控中心"),
    Body("D024", "东城区体育局", "体育局"),
    Body("D025", "东城区政务服务管理局", "政务服务局"),
    Body("D026", "东城区退役军人事务局", "退役军人事务局"),
    Body("D027", "东城区司法局", "司法局"),
    Body("D028", "东城区残疾人联合会", "残联"),
    Body("D029", "东城区信访办公室", "信访办"),
    Body("D030", "东城区市政市容管理服务中心", "市政市容中心"),
    Body("D031", "北京市东城区公路分局", "公路分局"),
    Body("D032", "东城区人民防空办公室", "人防办"),
)

# Utilities and other outside bodies (公共服务企业) that receive dispatched cases.
UTILITIES: tuple[Body, ...] = (
    Body("W001", "国网北京东城供电公司", "供电公司"),
    Body("W002", "北京市自来水集团东城分公司", "自来水集团"),
    Body("W003", "北京市燃气集团东城分公司", "燃气集团"),
    Body("W004", "北京市热力集团东城分公司", "热力集团"),
    Body("W005", "北京城市排水集团东城管网分公司", "排水集团"),
    Body("W006", "北京歌华有线电视网络股份有限公司东城分公司", "歌华有线"),
    Body("W007", "中国移动北京公司东城分公司", "中国移动"),
    Body("W008", "中国联通北京市分公司东城分公司", "中国联通"),
    Body("W009", "中国电信北京公司东城分局", "中国电信"),
    Body("W010", "北京公交集团东城客运分公司", "公交集团"),
)

# One property company per street keeps the street's small loop (街道小循环) populated.
PROPERTY_COMPANY_PATTERN = "{street}物业管理有限公司"
