"""Load the fair's product tree: 16 product categories holding 50 exhibition sections.

Modelled on the online Canton Fair. The data is inline on purpose: a migration must not import
project code that may change later. Each node is
``(slug, English name, zh-hans, ar, ru, es, fr)``; positions follow list order among siblings.
Running it again updates the nodes in place (``update_or_create`` on the slug)."""

from django.db import migrations

LANGUAGES = ("zh-hans", "ar", "ru", "es", "fr")

TREE = [
    (
        (
            "electronics-appliances",
            "Electronics & Household Appliances",
            "电子及家电",
            "الإلكترونيات والأجهزة المنزلية",
            "Электроника и бытовая техника",
            "Electrónica y electrodomésticos",
            "Électronique et électroménager",
        ),
        [
            (
                "household-appliances",
                "Household Appliances",
                "家用电器",
                "الأجهزة المنزلية الكهربائية",
                "Бытовая техника",
                "Electrodomésticos",
                "Appareils électroménagers",
            ),
            (
                "consumer-electronics",
                "Consumer Electronics & Information Products",
                "消费电子及信息产品",
                "الإلكترونيات الاستهلاكية ومنتجات تقنية المعلومات",
                "Потребительская электроника и информационная техника",
                "Electrónica de consumo y productos informáticos",
                "Électronique grand public et produits informatiques",
            ),
        ],
    ),
    (
        (
            "lighting-electrical",
            "Lighting & Electrical",
            "照明及电气",
            "الإضاءة والمعدات الكهربائية",
            "Освещение и электротехника",
            "Iluminación y material eléctrico",
            "Éclairage et matériel électrique",
        ),
        [
            (
                "lighting-equipment",
                "Lighting Equipment",
                "照明器材",
                "معدات الإضاءة",
                "Осветительное оборудование",
                "Equipos de iluminación",
                "Équipements d'éclairage",
            ),
            (
                "electrical-products",
                "Electronic & Electrical Products",
                "电子电气产品",
                "المنتجات الإلكترونية والكهربائية",
                "Электронные и электротехнические изделия",
                "Productos electrónicos y eléctricos",
                "Produits électroniques et électriques",
            ),
        ],
    ),
    (
        (
            "hardware-tools",
            "Hardware & Tools",
            "五金工具",
            "الخردوات والأدوات",
            "Скобяные изделия и инструменты",
            "Ferretería y herramientas",
            "Quincaillerie et outillage",
        ),
        [
            (
                "hardware",
                "Hardware",
                "五金",
                "الخردوات",
                "Скобяные изделия",
                "Ferretería",
                "Quincaillerie",
            ),
            (
                "tools",
                "Tools",
                "工具",
                "الأدوات",
                "Инструменты",
                "Herramientas",
                "Outillage",
            ),
        ],
    ),
    (
        (
            "machinery",
            "Machinery & Equipment",
            "机械设备",
            "الآلات والمعدات",
            "Машины и оборудование",
            "Maquinaria y equipos",
            "Machines et équipements",
        ),
        [
            (
                "industrial-automation",
                "Industrial Automation & Intelligent Manufacturing",
                "工业自动化及智能制造",
                "الأتمتة الصناعية والتصنيع الذكي",
                "Промышленная автоматизация и интеллектуальное производство",
                "Automatización industrial y fabricación inteligente",
                "Automatisation industrielle et fabrication intelligente",
            ),
            (
                "processing-machinery",
                "Processing Machinery & Equipment",
                "加工机械设备",
                "آلات ومعدات المعالجة",
                "Оборудование для обработки",
                "Maquinaria y equipos de procesamiento",
                "Machines et équipements de transformation",
            ),
            (
                "power-equipment",
                "Power & Electrical Equipment",
                "电力电工设备",
                "معدات توليد الطاقة والمعدات الكهربائية",
                "Энергетическое и электротехническое оборудование",
                "Equipos eléctricos y de energía",
                "Équipements énergétiques et électriques",
            ),
            (
                "construction-machinery",
                "Construction Machinery",
                "工程机械",
                "آلات البناء",
                "Строительная техника",
                "Maquinaria de construcción",
                "Engins de chantier",
            ),
            (
                "agricultural-machinery",
                "Agricultural Machinery",
                "农业机械",
                "الآلات الزراعية",
                "Сельскохозяйственная техника",
                "Maquinaria agrícola",
                "Machines agricoles",
            ),
        ],
    ),
    (
        (
            "vehicles-spare-parts",
            "Vehicles & Spare Parts",
            "车辆及配件",
            "المركبات وقطع الغيار",
            "Транспортные средства и запчасти",
            "Vehículos y repuestos",
            "Véhicules et pièces détachées",
        ),
        [
            (
                "new-energy-vehicles",
                "New Energy Vehicles & Smart Mobility",
                "新能源汽车及智慧出行",
                "مركبات الطاقة الجديدة والتنقل الذكي",
                "Автомобили на новых источниках энергии и умная мобильность",
                "Vehículos de nuevas energías y movilidad inteligente",
                "Véhicules à énergies nouvelles et mobilité intelligente",
            ),
            (
                "vehicle-spare-parts",
                "Vehicle Spare Parts",
                "汽车配件",
                "قطع غيار المركبات",
                "Автозапчасти",
                "Repuestos para vehículos",
                "Pièces détachées automobiles",
            ),
            (
                "motorcycles",
                "Motorcycles",
                "摩托车",
                "الدراجات النارية",
                "Мотоциклы",
                "Motocicletas",
                "Motos",
            ),
            (
                "bicycles",
                "Bicycles",
                "自行车",
                "الدراجات الهوائية",
                "Велосипеды",
                "Bicicletas",
                "Vélos",
            ),
        ],
    ),
    (
        (
            "new-energy",
            "New Energy",
            "新能源",
            "الطاقة الجديدة",
            "Новая энергетика",
            "Nuevas energías",
            "Énergies nouvelles",
        ),
        [
            (
                "solar-wind-power",
                "Solar & Wind Power",
                "太阳能及风能",
                "الطاقة الشمسية وطاقة الرياح",
                "Солнечная и ветровая энергетика",
                "Energía solar y eólica",
                "Énergie solaire et éolienne",
            ),
            (
                "energy-storage",
                "Batteries & Energy Storage",
                "电池及储能",
                "البطاريات وتخزين الطاقة",
                "Аккумуляторы и накопители энергии",
                "Baterías y almacenamiento de energía",
                "Batteries et stockage d'énergie",
            ),
        ],
    ),
    (
        (
            "chemicals-materials",
            "Chemicals & New Materials",
            "化工产品及新材料",
            "المواد الكيميائية والمواد الجديدة",
            "Химическая продукция и новые материалы",
            "Productos químicos y nuevos materiales",
            "Produits chimiques et nouveaux matériaux",
        ),
        [
            (
                "chemical-products",
                "Chemical Products",
                "化工产品",
                "المنتجات الكيميائية",
                "Химическая продукция",
                "Productos químicos",
                "Produits chimiques",
            ),
            (
                "new-materials",
                "New Materials",
                "新材料",
                "المواد الجديدة",
                "Новые материалы",
                "Nuevos materiales",
                "Nouveaux matériaux",
            ),
        ],
    ),
    (
        (
            "building-furniture",
            "Building Materials & Furniture",
            "建材及家具",
            "مواد البناء والأثاث",
            "Строительные материалы и мебель",
            "Materiales de construcción y muebles",
            "Matériaux de construction et mobilier",
        ),
        [
            (
                "building-decorative-materials",
                "Building & Decorative Materials",
                "建筑及装饰材料",
                "مواد البناء والديكور",
                "Строительные и отделочные материалы",
                "Materiales de construcción y decoración",
                "Matériaux de construction et de décoration",
            ),
            (
                "sanitary-bathroom-equipment",
                "Sanitary & Bathroom Equipment",
                "卫浴设备",
                "الأدوات الصحية ومعدات الحمامات",
                "Сантехника и оборудование для ванных комнат",
                "Sanitarios y equipamiento de baño",
                "Sanitaires et équipements de salle de bains",
            ),
            (
                "furniture",
                "Furniture",
                "家具",
                "الأثاث",
                "Мебель",
                "Muebles",
                "Meubles",
            ),
        ],
    ),
    (
        (
            "consumer-goods",
            "Consumer Goods",
            "日用消费品",
            "السلع الاستهلاكية",
            "Потребительские товары",
            "Bienes de consumo",
            "Biens de consommation",
        ),
        [
            (
                "kitchenware-tableware",
                "Kitchenware & Tableware",
                "厨具及餐具",
                "أدوات المطبخ وأدوات المائدة",
                "Кухонная утварь и столовая посуда",
                "Utensilios de cocina y vajilla",
                "Ustensiles de cuisine et vaisselle",
            ),
            (
                "household-items",
                "Household Items",
                "家居用品",
                "الأدوات المنزلية",
                "Товары для дома",
                "Artículos para el hogar",
                "Articles ménagers",
            ),
            (
                "general-ceramics",
                "General Ceramics",
                "日用陶瓷",
                "السيراميك المنزلي",
                "Бытовая керамика",
                "Cerámica de uso diario",
                "Céramiques d'usage courant",
            ),
            (
                "personal-care",
                "Personal Care Products",
                "个人护理用品",
                "منتجات العناية الشخصية",
                "Средства личной гигиены",
                "Productos de cuidado personal",
                "Produits de soins personnels",
            ),
            (
                "pet-products",
                "Pet Products & Food",
                "宠物用品及食品",
                "مستلزمات وأغذية الحيوانات الأليفة",
                "Товары и корма для домашних животных",
                "Productos y alimentos para mascotas",
                "Produits et aliments pour animaux de compagnie",
            ),
        ],
    ),
    (
        (
            "gifts-decorations",
            "Gifts & Home Decorations",
            "礼品及家居装饰品",
            "الهدايا وديكورات المنزل",
            "Подарки и предметы декора для дома",
            "Regalos y decoración del hogar",
            "Cadeaux et décoration d'intérieur",
        ),
        [
            (
                "gifts-premiums",
                "Gifts & Premiums",
                "礼品及赠品",
                "الهدايا والهدايا الترويجية",
                "Подарки и промосувениры",
                "Regalos y artículos promocionales",
                "Cadeaux et objets publicitaires",
            ),
            (
                "home-decorations",
                "Home Decorations",
                "家居装饰品",
                "ديكورات المنزل",
                "Декор для дома",
                "Decoración para el hogar",
                "Décoration d'intérieur",
            ),
            (
                "festival-products",
                "Festival Products",
                "节日用品",
                "مستلزمات الأعياد والمناسبات",
                "Праздничные товары",
                "Artículos festivos",
                "Articles de fête",
            ),
            (
                "art-ceramics-glass",
                "Art Ceramics & Glassware",
                "艺术陶瓷及玻璃工艺品",
                "السيراميك الفني والمشغولات الزجاجية",
                "Художественная керамика и стекло",
                "Cerámica artística y artículos de vidrio",
                "Céramique d'art et verrerie",
            ),
            (
                "clocks-watches-optical",
                "Clocks, Watches & Optical Instruments",
                "钟表及光学仪器",
                "الساعات والأجهزة البصرية",
                "Часы и оптические приборы",
                "Relojes e instrumentos ópticos",
                "Horlogerie et instruments d'optique",
            ),
            (
                "garden-products",
                "Garden Products",
                "园林产品",
                "مستلزمات الحدائق",
                "Товары для сада",
                "Productos de jardinería",
                "Articles de jardin",
            ),
            (
                "weaving-rattan-iron",
                "Weaving, Rattan & Iron Products",
                "编织及藤铁工艺品",
                "منتجات الخوص والروطان والحديد المشغول",
                "Плетёные, ротанговые и кованые изделия",
                "Productos de cestería, ratán y hierro",
                "Articles de vannerie, rotin et fer forgé",
            ),
        ],
    ),
    (
        (
            "toys-baby",
            "Toys, Baby & Maternity Products",
            "玩具及孕婴童用品",
            "الألعاب ومنتجات الأطفال والأمومة",
            "Игрушки и товары для детей и мам",
            "Juguetes y productos para bebés y maternidad",
            "Jouets, puériculture et maternité",
        ),
        [
            (
                "toys",
                "Toys",
                "玩具",
                "الألعاب",
                "Игрушки",
                "Juguetes",
                "Jouets",
            ),
            (
                "baby-maternity",
                "Baby & Maternity Products",
                "孕婴童用品",
                "منتجات الرضع والأمومة",
                "Товары для малышей и будущих мам",
                "Productos para bebés y maternidad",
                "Articles de puériculture et de maternité",
            ),
            (
                "kids-wear",
                "Kids' Wear",
                "童装",
                "ملابس الأطفال",
                "Детская одежда",
                "Ropa infantil",
                "Vêtements pour enfants",
            ),
        ],
    ),
    (
        (
            "textiles-garments",
            "Textiles & Garments",
            "纺织服装",
            "المنسوجات والملابس",
            "Текстиль и одежда",
            "Textiles y prendas de vestir",
            "Textiles et habillement",
        ),
        [
            (
                "mens-womens-clothing",
                "Men's & Women's Clothing",
                "男女装",
                "الملابس الرجالية والنسائية",
                "Мужская и женская одежда",
                "Ropa de hombre y mujer",
                "Vêtements pour hommes et femmes",
            ),
            (
                "underwear",
                "Underwear",
                "内衣",
                "الملابس الداخلية",
                "Нижнее бельё",
                "Ropa interior",
                "Sous-vêtements",
            ),
            (
                "sports-casual-wear",
                "Sportswear & Casual Wear",
                "运动服及休闲服装",
                "الملابس الرياضية والملابس غير الرسمية",
                "Спортивная и повседневная одежда",
                "Ropa deportiva e informal",
                "Vêtements de sport et de loisirs",
            ),
            (
                "furs-leather-down",
                "Furs, Leather, Down & Related Products",
                "裘革皮羽绒及制品",
                "الفراء والجلود والريش ومنتجاتها",
                "Меха, кожа, пух и изделия из них",
                "Pieles, cuero, plumón y productos afines",
                "Fourrures, cuir, duvet et produits dérivés",
            ),
            (
                "fashion-accessories",
                "Fashion Accessories & Fittings",
                "服装饰物及配件",
                "إكسسوارات الأزياء ولوازمها",
                "Модные аксессуары и фурнитура",
                "Accesorios de moda y avíos",
                "Accessoires de mode et fournitures",
            ),
            (
                "textile-raw-materials",
                "Textile Raw Materials & Fabrics",
                "纺织原料及面料",
                "المواد الخام للنسيج والأقمشة",
                "Текстильное сырьё и ткани",
                "Materias primas textiles y tejidos",
                "Matières premières textiles et tissus",
            ),
            (
                "home-textiles",
                "Home Textiles & Carpets",
                "家用纺织品及地毯",
                "المفروشات المنزلية والسجاد",
                "Домашний текстиль и ковры",
                "Textiles para el hogar y alfombras",
                "Linge de maison et tapis",
            ),
        ],
    ),
    (
        (
            "shoes-bags",
            "Shoes & Bags",
            "鞋类及箱包",
            "الأحذية والحقائب",
            "Обувь и сумки",
            "Calzado y bolsos",
            "Chaussures et sacs",
        ),
        [
            (
                "shoes",
                "Shoes",
                "鞋类",
                "الأحذية",
                "Обувь",
                "Calzado",
                "Chaussures",
            ),
            (
                "cases-bags",
                "Cases & Bags",
                "箱包",
                "الحقائب وحقائب السفر",
                "Сумки и чемоданы",
                "Bolsos y maletas",
                "Sacs et bagagerie",
            ),
        ],
    ),
    (
        (
            "food",
            "Food",
            "食品",
            "الأغذية",
            "Продукты питания",
            "Alimentos",
            "Alimentation",
        ),
        [
            (
                "food-beverages",
                "Food & Beverages",
                "食品饮料",
                "الأغذية والمشروبات",
                "Продукты питания и напитки",
                "Alimentos y bebidas",
                "Produits alimentaires et boissons",
            ),
        ],
    ),
    (
        (
            "medicines-health",
            "Medicines & Health Products",
            "医药及保健品",
            "الأدوية ومنتجات الرعاية الصحية",
            "Лекарства и товары для здоровья",
            "Medicamentos y productos para la salud",
            "Médicaments et produits de santé",
        ),
        [
            (
                "medicines-supplements",
                "Medicines & Health Supplements",
                "药品及保健品",
                "الأدوية والمكملات الغذائية",
                "Лекарства и биологически активные добавки",
                "Medicamentos y complementos alimenticios",
                "Médicaments et compléments alimentaires",
            ),
            (
                "medical-devices",
                "Medical Devices & Supplies",
                "医疗器械及耗材",
                "الأجهزة والمستلزمات الطبية",
                "Медицинские изделия и расходные материалы",
                "Dispositivos y suministros médicos",
                "Dispositifs et fournitures médicaux",
            ),
        ],
    ),
    (
        (
            "office-stationery",
            "Office Supplies & Stationery",
            "办公文具",
            "اللوازم المكتبية والقرطاسية",
            "Офисные и канцелярские товары",
            "Material de oficina y papelería",
            "Fournitures de bureau et papeterie",
        ),
        [
            (
                "office-supplies",
                "Office Supplies",
                "办公用品",
                "اللوازم المكتبية",
                "Офисные принадлежности",
                "Material de oficina",
                "Fournitures de bureau",
            ),
        ],
    ),
]


def _defaults(node, *, kind, parent, position):
    _slug, name, *translations = node
    return {
        "kind": kind,
        "parent": parent,
        "name": name,
        "names": dict(zip(LANGUAGES, translations, strict=True)),
        "position": position,
    }


def load_tree(apps, schema_editor):
    Category = apps.get_model("fair", "Category")
    for cat_position, (category, sections) in enumerate(TREE):
        parent, _created = Category.objects.update_or_create(
            slug=category[0],
            defaults=_defaults(category, kind="category", parent=None, position=cat_position),
        )
        for position, section in enumerate(sections):
            Category.objects.update_or_create(
                slug=section[0],
                defaults=_defaults(section, kind="section", parent=parent, position=position),
            )


def unload_tree(apps, schema_editor):
    Category = apps.get_model("fair", "Category")
    section_slugs = [section[0] for _category, sections in TREE for section in sections]
    category_slugs = [category[0] for category, _sections in TREE]
    Category.objects.filter(slug__in=section_slugs).delete()
    Category.objects.filter(slug__in=category_slugs).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("fair", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_tree, unload_tree),
    ]
