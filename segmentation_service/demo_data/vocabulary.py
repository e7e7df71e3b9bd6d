"""Fixed vocabularies and distribution parameters of the synthetic CRM data."""

from __future__ import annotations

from typing import NamedTuple


class Industry(NamedTuple):
    name: str
    share: float  # of B2B customers
    revenue_per_employee: float  # median, per year
    name_words: tuple[str, ...]  # used in company names


class Country(NamedTuple):
    region: str
    code: str  # ISO 3166-1 alpha-2
    share: float  # of all customers
    legal_forms: tuple[str, ...]


class Category(NamedTuple):
    name: str
    amount_factor: float  # relative size of a purchase
    margin_rate: float  # typical, before customer and transaction noise


class Archetype(NamedTuple):
    label: str
    share: float
    spend_factor: float  # relative mean spend per purchase
    profile: tuple[float, ...]  # mean score per need, in NEEDS order


class BuyingStyle(NamedTuple):
    label: str
    channel_shares: tuple[float, ...]  # of the customer's transactions, in CHANNELS order
    category_shares: tuple[float, ...]  # of their purchases, in CATEGORIES order
    rate_factor: float  # purchases per year, relative to the customer type's base rate
    spend_factor: float  # spend per purchase, relative to the type and needs mean
    return_share: float  # of all transactions
    churn_factor: float  # chance of leaving per year, relative to the type's


class AgeBand(NamedTuple):
    youngest: int  # end_date year minus birth year
    oldest: int
    share: float


NEEDS: tuple[str, ...] = (
    "price",
    "quality",
    "service",
    "convenience",
    "innovation",
    "sustainability",
    "speed",
    "brand",
)

B2B_SHARE = 0.4

INDUSTRIES: tuple[Industry, ...] = (
    Industry(
        "Manufacturing", 0.18, 180_000.0, ("Manufacturing", "Industries", "Werke", "Fabrication")
    ),
    Industry("Retail", 0.15, 150_000.0, ("Retail", "Handel", "Stores", "Trading")),
    Industry("Healthcare", 0.10, 110_000.0, ("Health", "Medical", "Care", "Clinics")),
    Industry("Finance", 0.10, 300_000.0, ("Finance", "Capital", "Invest", "Partners")),
    Industry("Technology", 0.15, 220_000.0, ("Systems", "Software", "Digital", "Technologies")),
    Industry("Logistics", 0.10, 160_000.0, ("Logistics", "Freight", "Transport", "Cargo")),
    Industry("Hospitality", 0.10, 60_000.0, ("Hotels", "Hospitality", "Gastro", "Resorts")),
    Industry("Construction", 0.12, 140_000.0, ("Construction", "Bau", "Builders", "Engineering")),
)

COUNTRIES: tuple[Country, ...] = (
    Country("North", "SE", 0.07, ("AB",)),
    Country("North", "NO", 0.04, ("AS",)),
    Country("North", "DK", 0.05, ("A/S", "ApS")),
    Country("North", "FI", 0.04, ("Oy",)),
    Country("South", "IT", 0.08, ("S.p.A.", "S.r.l.")),
    Country("South", "ES", 0.07, ("S.A.", "S.L.")),
    Country("South", "PT", 0.03, ("Lda.", "S.A.")),
    Country("South", "GR", 0.02, ("S.A.",)),
    Country("East", "PL", 0.09, ("Sp. z o.o.", "S.A.")),
    Country("East", "CZ", 0.05, ("s.r.o.", "a.s.")),
    Country("East", "HU", 0.03, ("Kft.", "Zrt.")),
    Country("East", "RO", 0.03, ("S.R.L.",)),
    Country("West", "FR", 0.09, ("SAS", "SARL")),
    Country("West", "GB", 0.07, ("Ltd", "PLC")),
    Country("West", "NL", 0.05, ("B.V.",)),
    Country("West", "BE", 0.03, ("NV", "SRL")),
    Country("West", "IE", 0.02, ("Ltd",)),
    Country("Central", "DE", 0.10, ("GmbH", "AG", "GmbH & Co. KG")),
    Country("Central", "AT", 0.03, ("GmbH", "AG")),
    Country("Central", "CH", 0.02, ("AG", "GmbH")),
)

CHANNELS: tuple[str, ...] = ("Online", "Store", "Phone", "Field Sales", "Partner")
# Preferred-channel shares in CHANNELS order.
B2B_CHANNEL_SHARES: tuple[float, ...] = (0.18, 0.05, 0.22, 0.35, 0.20)
B2C_CHANNEL_SHARES: tuple[float, ...] = (0.52, 0.35, 0.08, 0.02, 0.03)
# Multiplier on acquisition and service costs: a field sales force is dearer than a web shop.
CHANNEL_COST_FACTORS: tuple[float, ...] = (0.5, 0.8, 0.9, 1.6, 1.2)

CATEGORIES: tuple[Category, ...] = (
    Category("Hardware", 1.3, 0.22),
    Category("Software", 1.0, 0.55),
    Category("Services", 1.5, 0.40),
    Category("Supplies", 0.4, 0.30),
    Category("Training", 0.8, 0.50),
)

# Each archetype scores high on one or two needs; the spend factors relate value to needs.
ARCHETYPES: tuple[Archetype, ...] = (
    Archetype("price & speed", 0.26, 0.70, (6.4, 2.6, 3.0, 3.4, 2.6, 2.4, 6.1, 2.2)),
    Archetype("quality & brand", 0.20, 1.40, (2.4, 6.4, 3.6, 3.0, 3.6, 3.2, 2.8, 6.3)),
    Archetype("service", 0.20, 1.05, (3.0, 3.4, 6.6, 3.4, 2.4, 2.8, 3.0, 2.8)),
    Archetype("innovation & sustainability", 0.16, 1.30, (2.8, 4.0, 3.0, 2.8, 6.4, 6.2, 3.2, 3.6)),
    Archetype("convenience", 0.18, 0.90, (3.4, 2.6, 3.0, 6.6, 2.8, 2.6, 4.2, 2.6)),
)

# How customers buy: the planted behavioural segments, each with its own channels, categories,
# purchase rate, basket and returns. Consumers buy online often and small (about 16 purchases
# a year, mostly supplies), in store rarely and big (one purchase in two years, mostly
# hardware), or online and by phone and send back two in five; businesses buy through field
# sales, partners and phone and, being on contract, seldom leave. The spend factors keep each
# customer type's mean revenue about where it was before the styles were planted.
BUYING_STYLES: tuple[BuyingStyle, ...] = (
    BuyingStyle(
        "online frequent",
        (0.95, 0.05, 0.0, 0.0, 0.0),
        (0.02, 0.08, 0.0, 0.90, 0.0),
        1.8,
        0.85,
        0.005,
        1.0,
    ),
    BuyingStyle(
        "store large baskets",
        (0.05, 0.95, 0.0, 0.0, 0.0),
        (0.90, 0.04, 0.03, 0.03, 0.0),
        0.055,
        5.0,
        0.005,
        1.0,
    ),
    BuyingStyle(
        "returns heavy",
        (0.45, 0.10, 0.45, 0.0, 0.0),
        (0.20, 0.70, 0.0, 0.10, 0.0),
        1.33,
        1.7,
        0.40,
        1.0,
    ),
    BuyingStyle(
        "field accounts",
        (0.0, 0.0, 0.15, 0.60, 0.25),
        (0.02, 0.13, 0.55, 0.0, 0.30),
        0.83,
        0.75,
        0.005,
        0.05,
    ),
)
# Style shares (in BUYING_STYLES order) of B2C and of B2B customers.
B2C_STYLE_SHARES: tuple[float, ...] = (0.40, 0.45, 0.15, 0.0)
B2B_STYLE_SHARES: tuple[float, ...] = (0.0, 0.0, 0.0, 1.0)

# Adults only: the youngest are at least 18 on any day of the end_date year.
AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand(19, 24, 0.11),
    AgeBand(25, 34, 0.18),
    AgeBand(35, 44, 0.19),
    AgeBand(45, 54, 0.18),
    AgeBand(55, 64, 0.17),
    AgeBand(65, 85, 0.17),
)

COMPANY_PREFIXES: tuple[str, ...] = (
    "Nord", "Sued", "Ost", "West", "Alt", "Neu", "Blau", "Gruen", "Stern", "Berg",
    "Fels", "Hoch", "Licht", "Eisen", "Silber", "Gold", "Wald", "See", "Feld", "Stahl",
    "Klar", "Sonnen", "Falken", "Adler", "Linden", "Eichen", "Kristall", "Polar", "Atlas", "Vita",
)  # fmt: skip
COMPANY_SUFFIXES: tuple[str, ...] = (
    "wind", "berg", "hof", "feld", "stein", "werk", "tal", "bruck", "haus", "quelle",
    "mark", "burg", "licht", "strom", "welle", "blick", "punkt", "form", "tec", "ion",
)  # fmt: skip
FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Lukas", "Emma", "Jonas", "Sofia", "Leon", "Mia", "Noah", "Lena", "Elias",
    "Clara", "Felix", "Marie", "Paul", "Laura", "David", "Julia", "Daniel", "Sara", "Jan",
    "Olivia", "Liam", "Chloe", "Hugo", "Alice", "Louis", "Giulia", "Marco", "Lucia", "Pablo",
    "Carmen", "Javier", "Zofia", "Piotr", "Eva", "Tomas", "Ingrid", "Erik", "Astrid", "Mikkel",
    "Aino", "Eero", "Sean", "Aoife", "Nikos", "Eleni", "Ana", "Joao", "Katalin", "Andrei",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Hoffmann", "Koch", "Martin", "Bernard", "Dubois", "Laurent", "Rossi", "Russo", "Bianchi",
    "Garcia", "Martinez", "Lopez", "Silva", "Santos", "Nowak", "Kowalski", "Novak", "Svoboda",
    "Nagy", "Popescu", "Jansen", "De Vries", "Peeters", "Smith", "Jones", "Murphy", "Kelly",
    "Johansson", "Andersson", "Hansen", "Nielsen", "Virtanen", "Papadopoulos", "Huber",
    "Gruber", "Keller", "Baumann", "Wolf", "Fontaine", "Moreau", "Costa", "Horvath",
)  # fmt: skip
