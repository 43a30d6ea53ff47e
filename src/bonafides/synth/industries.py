"""Industries of synthetic organisations (GB/T 4754-2017 sections) and the words that show
them in a name.

Weights follow the shape of China's register: wholesale and retail (F) dominate, then
leasing and business services (L) and manufacturing (C); individual businesses are
mostly shops, restaurants and neighbourhood services. Agriculture (A) is weighted up a
little for the rural demonstration data (§69).
"""

from __future__ import annotations

from typing import Final

Word = tuple[str, str]

#: Section letter -> (weight, industry words for company names as (Chinese, English)).
ENTERPRISE_SECTIONS: Final[dict[str, tuple[float, tuple[Word, ...]]]] = {
    "F": (
        30.0,
        (
            ("贸易", "Trading"),
            ("商贸", "Commerce and Trade"),
            ("进出口", "Import and Export"),
            ("电子商务", "E-commerce"),
            ("建材", "Building Materials"),
            ("医药", "Pharmaceutical"),
            ("农产品", "Agricultural Products"),
            ("食品", "Food"),
        ),
    ),
    "L": (
        12.0,
        (
            ("企业管理咨询", "Enterprise Management Consulting"),
            ("商务服务", "Business Services"),
            ("人力资源", "Human Resources"),
            ("广告", "Advertising"),
            ("会展服务", "Exhibition Services"),
        ),
    ),
    "C": (
        12.0,
        (
            ("机械制造", "Machinery Manufacturing"),
            ("电子科技", "Electronic Technology"),
            ("纺织", "Textile"),
            ("服饰", "Apparel"),
            ("食品", "Food"),
            ("塑料制品", "Plastic Products"),
            ("五金制品", "Hardware Products"),
            ("家具", "Furniture"),
            ("化工", "Chemical"),
            ("新材料", "New Materials"),
            ("包装材料", "Packaging Materials"),
            ("汽车配件", "Auto Parts"),
            ("印刷", "Printing"),
        ),
    ),
    "M": (
        8.0,
        (
            ("科技", "Technology"),
            ("生物科技", "Biotechnology"),
            ("检测技术", "Testing Technology"),
            ("工程设计", "Engineering Design"),
        ),
    ),
    "E": (
        7.0,
        (
            ("建筑工程", "Construction Engineering"),
            ("建设工程", "Construction"),
            ("装饰工程", "Decoration Engineering"),
            ("市政工程", "Municipal Engineering"),
            ("劳务", "Labour Services"),
        ),
    ),
    "I": (
        6.0,
        (
            ("信息技术", "Information Technology"),
            ("网络科技", "Network Technology"),
            ("软件", "Software"),
            ("数据科技", "Data Technology"),
        ),
    ),
    "H": (4.0, (("餐饮管理", "Catering Management"), ("酒店管理", "Hotel Management"))),
    "G": (
        4.0,
        (
            ("物流", "Logistics"),
            ("运输", "Transportation"),
            ("供应链管理", "Supply Chain Management"),
            ("货运代理", "Freight Forwarding"),
        ),
    ),
    "A": (
        5.0,
        (
            ("农业开发", "Agricultural Development"),
            ("生态农业", "Ecological Agriculture"),
            ("农业科技", "Agricultural Technology"),
            ("茶业", "Tea"),
            ("水产养殖", "Aquaculture"),
            ("畜牧", "Animal Husbandry"),
        ),
    ),
    "K": (
        3.0,
        (
            ("房地产开发", "Real Estate Development"),
            ("物业管理", "Property Management"),
            ("房地产经纪", "Real Estate Agency"),
        ),
    ),
    "O": (3.0, (("家政服务", "Housekeeping Services"), ("汽车维修", "Auto Repair"))),
    "R": (
        3.0,
        (
            ("文化传播", "Culture Communication"),
            ("文化传媒", "Culture Media"),
            ("影视", "Film and Television"),
            ("体育发展", "Sports Development"),
        ),
    ),
    "N": (1.0, (("环保科技", "Environmental Technology"), ("园林绿化", "Landscaping"))),
    "Q": (1.0, (("健康管理", "Health Management"), ("医疗科技", "Medical Technology"))),
    "P": (1.0, (("教育科技", "Education Technology"), ("职业技能培训", "Vocational Training"))),
    "D": (0.7, (("新能源", "New Energy"), ("电力", "Electric Power"))),
    "J": (0.5, (("投资管理", "Investment Management"), ("融资租赁", "Financial Leasing"))),
    "B": (0.3, (("矿业", "Mining"),)),
}

#: Section letter -> (weight, shop words of individual businesses).
SHOP_SECTIONS: Final[dict[str, tuple[float, tuple[Word, ...]]]] = {
    "F": (
        55.0,
        (
            ("便利店", "Convenience Store"),
            ("商行", "Trading Firm"),
            ("超市", "Supermarket"),
            ("五金店", "Hardware Store"),
            ("水果店", "Fruit Shop"),
            ("日用品店", "Daily Goods Store"),
            ("烟酒店", "Tobacco and Liquor Shop"),
            ("服装店", "Clothing Store"),
            ("建材经营部", "Building Materials Shop"),
            ("农资店", "Farm Supplies Shop"),
        ),
    ),
    "H": (
        18.0,
        (
            ("小吃店", "Snack Bar"),
            ("面馆", "Noodle House"),
            ("餐馆", "Restaurant"),
            ("饭店", "Restaurant"),
            ("奶茶店", "Milk Tea Shop"),
            ("烧烤店", "Barbecue Restaurant"),
        ),
    ),
    "O": (
        12.0,
        (
            ("理发店", "Barber Shop"),
            ("美容美发店", "Beauty Salon"),
            ("汽车修理部", "Auto Repair Shop"),
            ("家电维修部", "Appliance Repair Shop"),
            ("洗衣店", "Laundry"),
        ),
    ),
    "G": (5.0, (("货运部", "Freight Service"),)),
    "A": (
        6.0,
        (("家庭农场", "Family Farm"), ("养殖场", "Breeding Farm"), ("种植园", "Plantation")),
    ),
    "C": (3.0, (("加工厂", "Processing Workshop"), ("豆腐坊", "Tofu Workshop"))),
    "R": (1.0, (("棋牌室", "Chess and Card Room"),)),
}

#: What farmers' specialised cooperatives (§69) grow, breed or provide.
COOPERATIVE_WORDS: Final[tuple[Word, ...]] = (
    ("茶叶", "Tea"),
    ("果蔬", "Fruit and Vegetable"),
    ("水稻种植", "Rice Growing"),
    ("生猪养殖", "Pig Breeding"),
    ("食用菌", "Edible Fungi"),
    ("中药材", "Chinese Herbal Medicine"),
    ("农机", "Agricultural Machinery"),
    ("蜂业", "Beekeeping"),
    ("葡萄", "Grape"),
    ("苗木", "Nursery Stock"),
    ("土地股份", "Land Shareholding"),
)

#: Associations (社会团体) and private non-enterprise units (民办非企业单位).
ASSOCIATION_WORDS: Final[tuple[Word, ...]] = (
    ("餐饮行业协会", "Catering Industry Association"),
    ("物流协会", "Logistics Association"),
    ("个体劳动者协会", "Self-employed Workers' Association"),
    ("企业家协会", "Entrepreneurs' Association"),
    ("电子商务协会", "E-commerce Association"),
    ("茶叶行业协会", "Tea Industry Association"),
    ("建筑业协会", "Construction Industry Association"),
    ("青年创业促进会", "Youth Entrepreneurship Association"),
)
PRIVATE_UNIT_WORDS: Final[tuple[Word, ...]] = (
    ("培训学校", "Training School"),
    ("养老院", "Elderly Care Home"),
    ("社会工作服务中心", "Social Work Service Centre"),
    ("幼儿园", "Kindergarten"),
    ("职业技能培训学校", "Vocational Skills School"),
)
PUBLIC_INSTITUTION_WORDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("人民医院", "People's Hospital", "Q"),
    ("中医院", "Hospital of Traditional Chinese Medicine", "Q"),
    ("疾病预防控制中心", "Centre for Disease Control and Prevention", "Q"),
    ("实验小学", "Experimental Primary School", "P"),
    ("第一中学", "No. 1 Middle School", "P"),
    ("职业技术学校", "Vocational and Technical School", "P"),
    ("图书馆", "Library", "R"),
    ("公路管理所", "Highway Management Station", "S"),
    ("市政设施管理中心", "Municipal Facilities Management Centre", "S"),
    ("农业技术推广中心", "Agricultural Technology Extension Centre", "A"),
)
GOVERNMENT_WORDS: Final[tuple[Word, ...]] = (
    ("人民政府", "People's Government"),
    ("住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("交通运输局", "Transport Bureau"),
    ("教育局", "Education Bureau"),
    ("农业农村局", "Agriculture and Rural Affairs Bureau"),
    ("卫生健康局", "Health Bureau"),
    ("城市管理局", "Urban Management Bureau"),
    ("水利局", "Water Resources Bureau"),
)
