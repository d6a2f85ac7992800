"""Countries of the synthetic population: relative user counts, name locales, cities.

Relative sizes follow the platform's largest markets around 2014 (monthly users, millions,
rounded); only their ratios matter. Cities are real large cities of each country; a person's
location and hometown are drawn from their country's list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    #: relative number of users (millions, circa 2014)
    users: float
    #: Faker locale whose names the country's people get
    locale: str
    calling_code: str
    #: most common religion as people wrote it on profiles
    religion: str
    cities: tuple[str, ...]


_C = Country
COUNTRIES: tuple[Country, ...] = (
    _C("US", "United States", 180, "en_US", "1", "Christian",
       ("New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia", "Atlanta",
        "Seattle", "Denver", "Boston", "Miami", "Dallas")),
    _C("IN", "India", 110, "en_IN", "91", "Hindu",
       ("Mumbai", "Delhi", "Bangalore", "Hyderabad", "Chennai", "Kolkata", "Pune", "Jaipur")),
    _C("BR", "Brazil", 90, "pt_BR", "55", "Catholic",
       ("São Paulo", "Rio de Janeiro", "Belo Horizonte", "Salvador", "Brasília", "Fortaleza",
        "Curitiba", "Recife")),
    _C("ID", "Indonesia", 70, "id_ID", "62", "Islam",
       ("Jakarta", "Surabaya", "Bandung", "Medan", "Semarang", "Makassar")),
    _C("MX", "Mexico", 50, "es_MX", "52", "Catholic",
       ("Mexico City", "Guadalajara", "Monterrey", "Puebla", "Tijuana", "León")),
    _C("PH", "Philippines", 40, "en_PH", "63", "Catholic",
       ("Manila", "Quezon City", "Davao", "Cebu City", "Zamboanga")),
    _C("GB", "United Kingdom", 35, "en_GB", "44", "Christian",
       ("London", "Manchester", "Birmingham", "Glasgow", "Leeds", "Bristol", "Liverpool")),
    _C("TR", "Turkey", 35, "tr_TR", "90", "Islam",
       ("Istanbul", "Ankara", "Izmir", "Bursa", "Antalya")),
    _C("FR", "France", 28, "fr_FR", "33", "Catholic",
       ("Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Lille")),
    _C("DE", "Germany", 27, "de_DE", "49", "Christian",
       ("Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart")),
    _C("VN", "Vietnam", 25, "vi_VN", "84", "Buddhist",
       ("Ho Chi Minh City", "Hanoi", "Da Nang", "Hai Phong", "Can Tho")),
    _C("TH", "Thailand", 28, "th_TH", "66", "Buddhist",
       ("Bangkok", "Chiang Mai", "Phuket", "Khon Kaen", "Pattaya")),
    _C("IT", "Italy", 26, "it_IT", "39", "Catholic",
       ("Rome", "Milan", "Naples", "Turin", "Palermo", "Bologna")),
    _C("EG", "Egypt", 22, "ar_EG", "20", "Islam",
       ("Cairo", "Alexandria", "Giza", "Mansoura", "Tanta")),
    _C("AR", "Argentina", 22, "es_AR", "54", "Catholic",
       ("Buenos Aires", "Córdoba", "Rosario", "Mendoza", "La Plata")),
    _C("CO", "Colombia", 22, "es_CO", "57", "Catholic",
       ("Bogotá", "Medellín", "Cali", "Barranquilla", "Cartagena")),
    _C("JP", "Japan", 22, "ja_JP", "81", "Buddhist",
       ("Tokyo", "Osaka", "Yokohama", "Nagoya", "Sapporo", "Fukuoka")),
    _C("ES", "Spain", 20, "es_ES", "34", "Catholic",
       ("Madrid", "Barcelona", "Valencia", "Seville", "Bilbao")),
    _C("CA", "Canada", 20, "en_CA", "1", "Christian",
       ("Toronto", "Montreal", "Vancouver", "Calgary", "Ottawa", "Edmonton")),
    _C("PK", "Pakistan", 16, "en_PK", "92", "Islam",
       ("Karachi", "Lahore", "Islamabad", "Faisalabad", "Rawalpindi")),
    _C("MY", "Malaysia", 16, "en_MS", "60", "Islam",
       ("Kuala Lumpur", "George Town", "Johor Bahru", "Ipoh", "Kuching")),
    _C("NG", "Nigeria", 15, "en_NG", "234", "Christian",
       ("Lagos", "Abuja", "Kano", "Ibadan", "Port Harcourt")),
    _C("KR", "South Korea", 14, "ko_KR", "82", "Christian",
       ("Seoul", "Busan", "Incheon", "Daegu", "Daejeon")),
    _C("PE", "Peru", 13, "es_ES", "51", "Catholic",
       ("Lima", "Arequipa", "Trujillo", "Cusco", "Chiclayo")),
    _C("AU", "Australia", 13, "en_AU", "61", "Christian",
       ("Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide")),
    _C("PL", "Poland", 12, "pl_PL", "48", "Catholic",
       ("Warsaw", "Kraków", "Łódź", "Wrocław", "Poznań")),
)  # fmt: skip

COUNTRY_CODES: tuple[str, ...] = tuple(c.code for c in COUNTRIES)
N_COUNTRIES = len(COUNTRIES)


def country_shares() -> list[float]:
    """Each country's share of users, in table order (sums to 1)."""
    total = sum(c.users for c in COUNTRIES)
    return [c.users / total for c in COUNTRIES]


__all__ = ["COUNTRIES", "COUNTRY_CODES", "N_COUNTRIES", "Country", "country_shares"]
