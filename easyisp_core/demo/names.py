"""Kenyan people and places for demo data: names by community, towns, estates, phone prefixes.

Names are grouped by community so a generated person is coherent (a Luo surname with a Luo
middle name, a Somali given name with a Somali family name), which is what makes a customer list
look real to a Kenyan operator. All strings are ASCII so usernames derive from them directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from easyisp_core.demo.dice import Dice


@dataclass(frozen=True)
class Community:
    name: str
    male: tuple[str, ...]
    female: tuple[str, ...]
    surnames: tuple[str, ...]
    # Share of people who use an English/Christian first name before their own names.
    christian_share: float


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


CHRISTIAN_MALE = _split(
    "Brian Kevin Dennis Collins Victor Felix Peter John James Joseph David Daniel Samuel "
    "Stephen Paul Francis George Patrick Michael Charles Moses Isaac Emmanuel Eric Ian Allan "
    "Geoffrey Wycliffe Evans Edwin Kennedy Vincent Duncan Caleb Elijah Timothy Martin Lawrence "
    "Anthony Alex Benson Nelson Gideon Simon Philip Titus Erick Amos Boniface Cyrus Josphat"
)
CHRISTIAN_FEMALE = _split(
    "Faith Grace Mercy Joy Esther Ruth Sharon Mary Jane Ann Lucy Caroline Catherine Janet Irene "
    "Diana Winnie Purity Beatrice Eunice Lilian Gladys Emily Susan Margaret Elizabeth Judith "
    "Dorcas Naomi Rose Brenda Cynthia Linet Everlyne Valentine Maureen Christine Josephine "
    "Pauline Millicent Nancy Agnes Veronica Hellen Fridah Stella Tabitha Gloria Sylvia Doreen"
)

KIKUYU = Community(
    "Kikuyu",
    _split("Kamau Njoroge Mwangi Kariuki Kimani Maina Ndungu Waweru Gitau Muriuki Macharia Mugo"),
    _split("Wanjiku Wanjiru Njeri Wambui Nyambura Wairimu Waithera Wangari Muthoni Njoki Wangui"),
    _split(
        "Kamau Njoroge Mwangi Kariuki Githinji Kimani Maina Ndungu Waweru Gitau Kinyanjui "
        "Muriuki Macharia Wachira Karanja Kiarie Mugo Kuria Ngugi Mbugua Nderitu Muchiri "
        "Gachanja Njuguna Kang'ethe Gathogo Kihara Wainaina Mburu Ndirangu"
    ),
    0.7,
)
LUO = Community(
    "Luo",
    _split("Otieno Odhiambo Ochieng Onyango Owino Omondi Okoth Ouma Oduor Okello Opiyo"),
    _split("Akinyi Atieno Achieng Adhiambo Awino Anyango Auma Akoth Apiyo Aoko Nyaboro"),
    _split(
        "Otieno Odhiambo Ochieng Onyango Owino Omondi Okoth Ouma Oduor Okello Opiyo Ogutu "
        "Ojwang Obura Oloo Odongo Owuor Were Oketch Omollo Orwa Ongondo Achola Nyamweya Obonyo "
        "Adongo Oyugi"
    ),
    0.75,
)
LUHYA = Community(
    "Luhya",
    _split("Wafula Wanyama Wekesa Barasa Simiyu Wanjala Khaemba Makokha Shikuku Juma"),
    _split("Nekesa Nafula Nasimiyu Naliaka Nanjala Khisa Mukami Atsieno Kavochi Ayuma"),
    _split(
        "Wafula Wanyama Wekesa Barasa Simiyu Wanjala Khaemba Makokha Shikuku Mukhwana Wamalwa "
        "Masinde Wangila Muliro Ambani Amunga Shitanda Shiundu Lukale Mulama Khisa Wesonga "
        "Namwamba Okumu Murunga"
    ),
    0.8,
)
KALENJIN = Community(
    "Kalenjin",
    _split("Kipchoge Kiprono Kipkemboi Kiprotich Kipkoech Kiplagat Kipruto Kibet Kirui"),
    _split("Chebet Chepkoech Jepkosgei Jepchirchir Chelimo Chepngetich Cherono Jeptoo Chepkirui"),
    _split(
        "Cheruiyot Rotich Kibet Kirui Koech Langat Mutai Tanui Kosgei Sang Bett Ruto Keter "
        "Korir Too Kemboi Kiprop Chirchir Kiptoo Biwott Rono Tergat Yego Kimutai Limo"
    ),
    0.6,
)
KAMBA = Community(
    "Kamba",
    _split("Mutua Musyoka Kioko Muthama Mutiso Mulwa Kyalo Munyao Wambua Mbithi Musau"),
    _split("Mwende Mutheu Ndinda Kalondu Mumbua Nduku Wayua Mwikali Syokau Kavata Ndunge"),
    _split(
        "Mutua Musyoka Kioko Muthama Kilonzo Mutiso Mulwa Nzioka Kyalo Munyao Wambua Ndambuki "
        "Mbithi Musau Kitavi Nzomo Muema Mwanzia Kimeu Mumo Makau Ngei"
    ),
    0.75,
)
KISII = Community(
    "Kisii",
    _split("Onsongo Ombati Ondieki Mogaka Nyakundi Omwenga Ongeri Momanyi Makori Ogeto"),
    _split("Moraa Kerubo Nyaboke Bosibori Kemunto Nyanchama Kwamboka Nyamoita Nyanduko"),
    _split(
        "Onsongo Nyamweya Ombati Ondieki Mogaka Nyakundi Omwenga Ongeri Momanyi Makori Ogeto "
        "Nyangau Masese Obiri Mosota Nyabuto Matara Orina Nyagaka Omanga"
    ),
    0.8,
)
MERU = Community(
    "Meru",
    _split("Kinoti Mwenda Gitonga Mutuma Kaimenyi Murithi Mugambi Kirimi Mbaabu Kaberia"),
    _split("Kawira Kendi Gakii Nkatha Karimi Nkirote Makena Mwari Kanana Gatwiri"),
    _split(
        "Kinoti Mwenda Gitonga Mutuma Kaimenyi Murithi Mugambi Kirimi Mbaabu Kaberia Munene "
        "Nyaga Njue Ireri Muriithi Kiogora Mutwiri Koome Linturi Gikunda"
    ),
    0.75,
)
MIJIKENDA = Community(
    "Mijikenda",
    _split("Kazungu Kahindi Katana Baya Charo Kenga Ngala Kalama Tsuma Kitsao Nyevu"),
    _split("Kadzo Sidi Dama Mwanajuma Rehema Zawadi Kache Fatuma Mapenzi Nyamvula"),
    _split(
        "Kazungu Kahindi Katana Baya Charo Kenga Ngala Kalama Tsuma Kitsao Mramba Chai Mwaro "
        "Karisa Kombe Mwadime Mwakio Mwamburi Mghanga Ruwa Dzombo Mkare"
    ),
    0.5,
)
SOMALI = Community(
    "Somali",
    _split("Abdi Mohamed Hassan Ahmed Ali Omar Yusuf Ibrahim Abdullahi Farah Hussein Ismail"),
    _split("Fatuma Amina Halima Hodan Sahra Asha Khadija Deka Ayan Hawa Ubah Nasra"),
    _split(
        "Abdi Mohamed Hassan Ahmed Aden Farah Noor Ibrahim Osman Gedi Warsame Dahir Abdirahman "
        "Hussein Ismail Yusuf Sheikh Duale Mohamud Adan Abdille"
    ),
    0.0,
)
MAASAI = Community(
    "Maasai",
    _split("Lemayian Saitoti Sankale Parsaoti Lekishon Leshan Kaelo Ntimama Kores Tipis"),
    _split("Naserian Nashipae Resian Nalangu Naisula Sintamei Nkirrot Seleina Nasieku"),
    _split(
        "Sankale Saitoti Nkaissery Tiampati Lemaiyan Kores Letoluo Koikai Kisemei Parsimei "
        "Lenku Metito Tunai Ntimama Sakuda Kamwaro Lentoimaga Lesuuda"
    ),
    0.6,
)

COMMUNITIES: tuple[Community, ...] = (
    KIKUYU,
    LUO,
    LUHYA,
    KALENJIN,
    KAMBA,
    KISII,
    MERU,
    MIJIKENDA,
    SOMALI,
    MAASAI,
)

# Small businesses take static IPs and business plans; the name is "<surname> <kind>".
BUSINESS_KINDS = _split(
    "Hardware Agrovet Pharmacy Supermarket Salon Barbershop Cyber Boutique Electronics Butchery "
    "Academy Hotel Motors Clinic Bookshop Wines Studio Enterprises Logistics Traders"
)


@dataclass(frozen=True)
class Region:
    """Where a demo ISP operates: its towns, their estates, and who lives there."""

    towns: tuple[tuple[str, tuple[str, ...]], ...]
    # Relative weight of each community in COMMUNITIES order.
    community_weights: tuple[float, ...]


NAIROBI = Region(
    (
        (
            "Nairobi",
            _split(
                "Kasarani Roysambu Zimmerman Umoja Donholm Embakasi Kayole Pipeline Langata "
                "Kilimani Kileleshwa Westlands Kangemi Kawangware Lavington Buruburu Komarock "
                "Utawala Kahawa-West Githurai-45 South-B South-C Madaraka Ngara Parklands"
            ),
        ),
        ("Kiambu", _split("Ruaka Ruiru Juja Thindigua Kikuyu Limuru Membley Kahawa-Sukari")),
        ("Kajiado", _split("Rongai Kitengela Ngong Kiserian Isinya")),
        ("Machakos", _split("Syokimau Athi-River Mlolongo Kyumvi")),
    ),
    (30, 14, 14, 8, 12, 7, 7, 2, 4, 2),
)
MOMBASA = Region(
    (
        (
            "Mombasa",
            _split(
                "Nyali Bamburi Kisauni Likoni Tudor Changamwe Mikindani Bombolulu Shanzu "
                "Mtopanga Kongowea Magongo Mishomoroni Frere-Town"
            ),
        ),
        ("Kilifi", _split("Mtwapa Kilifi-Town Mnarani Kikambala")),
        ("Malindi", _split("Malindi-Town Casuarina Shella Mtangani")),
        ("Kwale", _split("Ukunda Diani Msambweni")),
    ),
    (8, 10, 8, 3, 8, 3, 3, 40, 12, 5),
)
KISUMU = Region(
    (
        (
            "Kisumu",
            _split(
                "Milimani Nyalenda Kondele Manyatta Mamboleo Riat Migosi Tom-Mboya Nyamasaria "
                "Lolwe Kibos Obunga"
            ),
        ),
        ("Kakamega", _split("Amalemba Lurambi Milimani-Kakamega Shinyalu")),
        ("Bungoma", _split("Kanduyi Mayanja Musikoma")),
        ("Kisii", _split("Jogoo Daraja-Mbili Nyanchwa Mwembe")),
    ),
    (5, 45, 25, 6, 3, 12, 2, 1, 1, 0),
)
RIFT = Region(
    (
        (
            "Nakuru",
            _split(
                "Milimani Section-58 Lanet Free-Area Shabab Kiamunyi Pipeline-Nakuru London "
                "Naka Bondeni Racecourse"
            ),
        ),
        ("Eldoret", _split("Elgon-View Kapsoya Langas Pioneer West-Indies Huruma Annex")),
        ("Naivasha", _split("Kihoto Karagita Mirera Kabati")),
        ("Kericho", _split("Brooke Ainamoi Kapsoit")),
    ),
    (25, 6, 10, 38, 4, 5, 3, 1, 2, 6),
)
MT_KENYA = Region(
    (
        ("Nyeri", _split("Ruring'u Skuta Kamakwa Kingongo Mweiga Gatitu")),
        ("Meru", _split("Makutano Milimani-Meru Kinoru Gitoro Nkubu Kooje")),
        ("Embu", _split("Majengo Kangaru Dallas Blue-Valley")),
        ("Nanyuki", _split("Likii Majengo-Nanyuki Thingithu Sweetwaters")),
    ),
    (45, 3, 3, 3, 4, 2, 32, 1, 3, 4),
)

# Safaricom number ranges after the 254 country code (07xx and the newer 011x series).
SAFARICOM_PREFIXES: tuple[str, ...] = (
    *(f"7{n:02d}" for n in range(30)),
    *(f"74{n}" for n in range(9)),
    "757",
    "758",
    "759",
    "768",
    "769",
    *(f"79{n}" for n in range(10)),
    *(f"11{n}" for n in range(6)),
)

# Vendor prefixes (OUIs) of the phones and home routers seen on Kenyan access networks:
# Tecno/Infinix (Transsion), Samsung, Xiaomi, Huawei, Apple, Oppo; TP-Link, Tenda, Huawei ONTs.
PHONE_OUIS = (
    "D8:55:75",
    "F4:D7:B2",
    "5C:E8:83",
    "A4:50:46",
    "34:CE:00",
    "9C:2E:A1",
    "AC:5F:3E",
    "F0:79:59",
    "E8:8D:28",
    "8C:F5:A3",
)
ROUTER_OUIS = ("50:C7:BF", "C4:6E:1F", "E8:94:F6", "CC:2D:21", "04:95:E6", "58:D9:D5")

EMAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com")


def person(d: Dice, c: Community, business: bool) -> tuple[str, str, str]:
    """(first name, surname, full name) of someone from community c.

    Many Kenyans use an English first name before their own names ('Faith Wanjiku Kamau');
    businesses are '<surname> <kind>' ('Otieno Hardware')."""
    female = d.random() < 0.5
    given = c.female if female else c.male
    middle = None
    if d.random() < c.christian_share:
        first = d.choice(CHRISTIAN_FEMALE if female else CHRISTIAN_MALE)
        if d.random() < 0.45:
            middle = d.choice(given)
    else:
        first = d.choice(given)
    surname = d.choice(c.surnames)
    if business:
        kind = d.choice(BUSINESS_KINDS)
        return surname, kind, f"{surname} {kind}"
    if middle is not None and middle != surname:
        return first, surname, f"{first} {middle} {surname}"
    return first, surname, f"{first} {surname}"
