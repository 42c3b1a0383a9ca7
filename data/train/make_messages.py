#!/usr/bin/env python3
"""Write data/train/messages.txt: varied English messages for bridge training.

  python3 data/train/make_messages.py            # writes data/train/messages.txt
  python3 data/train/make_messages.py --stdout   # prints the messages instead
  python3 data/train/make_messages.py --check    # exit 1 if messages.txt differs from a fresh
                                                 # build or breaks an invariant

Every message comes from the compositional grammar below (frames with nested alternatives and
slots, word lists written for latentbus). A fixed seed drives a PCG32 generator, so the output
is the same byte for byte on every run and every Python 3 version. Candidates that are too short
or too long (outside 6..40 words), repeat an earlier message, are a near copy of an earlier
message, or overlap an evaluation text in data/classify/*.jsonl (rule in check_disjoint.py)
are dropped; the counts go to stderr. The result is shuffled, so every prefix mixes all kinds.
Standard library only.
"""

import glob
import json
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import check_disjoint  # noqa: E402  (the overlap rule lives there, shared with the checker)
from textgen import Grammar, Rng, phrases, tidy, words  # noqa: E402

SEED = 20250611
TARGET = 3000
MIN_WORDS, MAX_WORDS = 6, 40
REPO = os.path.dirname(os.path.dirname(HERE))
EVAL_GLOB = os.path.join(REPO, "data", "classify", "*.jsonl")
OUT = os.path.join(HERE, "messages.txt")


# ----------------------------------------------------------------------------------------------
# Number, time and identifier slots (functions of the generator)
# ----------------------------------------------------------------------------------------------

NUMBER_WORDS = words("two three four five six seven eight nine ten eleven twelve")
MONTHS = words("January February March April May June July August September October November "
               "December")
DAYS = words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")


def n1(r):
    return str(r.randint(2, 9)) if r.chance(1, 2) else r.choice(NUMBER_WORDS[:8])


def n2(r):
    return str(r.randint(3, 24))


def n3(r):
    return str(r.randint(12, 480))


def n4(r):
    return str(r.randint(1000, 9999))


def bignum(r):
    v = r.randint(1, 98) * r.choice([100, 1000, 250, 10])
    return "{:,}".format(v)


def pct(r):
    k = r.below(3)
    if k == 0:
        return "%d%%" % r.randint(2, 97)
    if k == 1:
        return "%d percent" % r.randint(2, 97)
    return "%d.%d%%" % (r.randint(0, 12), r.randint(1, 9))


def pct_round(r):
    return r.choice(["a quarter", "a third", "half", "two thirds", "three quarters",
                     "%d percent" % (r.randint(1, 19) * 5)])


def time24(r):
    return "%02d:%02d" % (r.randint(0, 23), r.choice(list(range(0, 60, 5))))


def time12(r):
    k = r.below(5)
    h = r.randint(1, 12)
    if k == 0:
        return "%d:%02d %s" % (h, r.choice([0, 15, 30, 45, 10, 20, 40, 50]), r.choice(["am", "pm"]))
    if k == 1:
        return "%d %s" % (h, r.choice(["am", "pm"]))
    if k == 2:
        return r.choice(["noon", "midday", "midnight", "lunchtime", "teatime", "dawn", "dusk"])
    hw = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve"][h - 1]
    if k == 3:
        return r.choice(["half past ", "quarter past ", "quarter to ", "ten past ",
                         "twenty to "]) + hw
    return hw + " o'clock"


def timeline(r):
    h = r.randint(0, 20)
    m = r.randint(0, 5) * 5
    out = []
    for _ in range(3):
        out.append("%02d:%02d" % (h, m))
        m += r.randint(2, 9) * 5
        h += m // 60
        m %= 60
    return "%s first alert, %s {svc} restarted, %s errors back under {pct}" % tuple(out)


def span24(r):
    h = r.randint(0, 20)
    m = r.choice([0, 15, 30, 45])
    h2 = min(23, h + r.randint(1, 3))
    return "%02d:%02d to %02d:%02d" % (h, m, h2, r.choice([0, 15, 30, 45]))


def span12(r):
    a = r.randint(7, 17)
    b = a + r.randint(1, 4)

    def fmt(h):
        return "%d %s" % ((h - 1) % 12 + 1, "am" if h < 12 else "pm")
    return "%s to %s" % (fmt(a), fmt(b))


def x_of_y(r):
    y = r.randint(3, 40)
    return "%d of %d" % (r.randint(1, y), y)


def loss_pair(r):
    a = r.randint(300, 2400)
    b = a + r.randint(5, 600)
    return "%d.%03d, down from %d.%03d" % (a // 1000, a % 1000, b // 1000, b % 1000)


def budget(r):
    total = r.randint(2, 90) * 1000
    spent = r.randint(1, total // 1000) * 1000 - r.randint(0, 9) * 100
    cur = r.choice(["$%s", "%s euros", "%s pounds"])
    return "%s spent of %s" % (cur % "{:,}".format(spent), cur % "{:,}".format(total))


def minute(r):
    return ordinal_num(r.randint(2, 90))


def short_dur(r):
    k = r.below(3)
    if k == 0:
        return "%d minutes" % r.randint(3, 55)
    if k == 1:
        return "%d seconds" % r.randint(10, 90)
    return r.choice(["half an hour", "twenty minutes", "an hour and a half", "a good hour",
                     "forty-five minutes", "just under an hour", "ten long minutes"])


def cook_time(r):
    return r.choice(["%d minutes" % (r.randint(2, 12) * 5), "an hour", "two hours",
                     "an hour and a half", "forty minutes"])


def oven(r):
    return "%d degrees" % (r.randint(16, 22) * 10)


def temp_cold(r):
    return "%d degrees" % r.randint(-12, 3)


def temp_mild(r):
    return "%d degrees" % r.randint(8, 19)


def temp_hot(r):
    return "%d degrees" % r.randint(27, 43)


def long_distance(r):
    return r.choice(["%d kilometres" % r.randint(40, 3000), "%d miles" % r.randint(30, 1800)])


def price(r):
    k = r.below(3)
    if k == 0:
        return "$%d" % r.randint(4, 38)
    if k == 1:
        return "%d euros" % r.randint(4, 35)
    return "%d pounds" % r.randint(4, 30)


PROCEDURES = [
    ["unplug the machine", "remove the back panel", "loosen the four screws",
     "lift out the filter", "rinse it under warm water", "let it dry completely",
     "slide the filter back in", "press the two clips until they click"],
    ["chop the onions finely", "fry them until soft", "stir in the {ingredient}",
     "add the stock and simmer", "season to taste", "serve with crusty bread"],
    ["copy the config file", "change the hostname", "restart the service",
     "check the logs for errors", "tell the channel you are done"],
    ["fold the paper in half", "crease it firmly", "fold the corners to the middle",
     "turn it over", "fold the wings down", "throw it gently"],
    ["turn off the water at the mains", "open the tap to drain the pipe",
     "unscrew the old washer", "fit the new one", "turn the water back on slowly"],
    ["sand the old paint", "wipe off the dust", "apply a thin first coat",
     "wait four hours", "apply the second coat", "leave the windows open overnight"],
    ["open the shared drive", "find last month's folder", "copy it and rename it",
     "update the dates on the cover sheet", "send the link to {name}"],
]


def deal_value(r):
    return r.choice(["$%d,000" % r.randint(12, 900), "%d,000 euros" % r.randint(10, 700),
                     "%d,000 pounds" % r.randint(10, 500), "$%d.%d million" % (r.randint(1, 9),
                                                                             r.randint(1, 9))])


def steps(r):
    p = r.choice(PROCEDURES)
    a = r.below(len(p) - 1)
    return "Step %d: %s. Step %d: %s." % (a + 1, p[a], a + 2, p[a + 1])


def tickets_sold(r):
    n = r.randint(40, 600)
    p = r.randint(4, 25)
    return "%d tickets at $%d each, [a few dozen|about a third|most|hardly any] of them at the " \
        "door, for a total of $%s" % (n, p, "{:,}".format(n * p))


def order_total(r):
    return "$%d.%02d" % (r.randint(12, 640), r.randint(0, 99))


def ex_dur(r):
    return r.choice(["%d minutes" % (r.randint(2, 12) * 5), "half an hour", "an hour",
                     "forty-five minutes", "twenty minutes"])


def duration(r):
    k = r.below(6)
    if k == 0:
        return "%d minutes" % r.randint(3, 55)
    if k == 1:
        return "%d hours" % r.randint(2, 14)
    if k == 2:
        return r.choice(["an hour and a half", "half an hour", "twenty minutes", "a good hour",
                         "most of the afternoon", "two whole days", "forty-five minutes",
                         "just under an hour", "ninety seconds", "a week"])
    if k == 3:
        return "%d seconds" % r.randint(5, 90)
    if k == 4:
        return "%d days" % r.randint(2, 12)
    return "%s weeks" % r.choice(NUMBER_WORDS[:6])


def money(r):
    k = r.below(5)
    v = r.randint(3, 9000)
    if k == 0:
        return "$" + "{:,}".format(v)
    if k == 1:
        return "%d euros" % v
    if k == 2:
        return "%d pounds" % r.randint(3, 400)
    if k == 3:
        return "$%d.%02d" % (r.randint(1, 300), r.randint(0, 99))
    return "%s dollars" % "{:,}".format(v * 10)


def money_big(r):
    return "%s %s" % (r.choice(["$", "$", "EUR ", "GBP "]) + str(r.randint(2, 950)),
                      r.choice(["million", "million", "billion"]))


def version(r):
    return "v%d.%d.%d" % (r.randint(1, 6), r.randint(0, 24), r.randint(0, 12))


def ticket(r):
    return "%s-%d" % (r.choice(["INC", "OPS", "BUG", "SUP", "REQ", "SEC", "DATA", "HR"]),
                      r.randint(100, 99999))


def host(r):
    return "%s-%02d" % (r.choice(["db", "web", "worker", "edge", "cache", "gpu", "batch", "api",
                                  "ingest", "build", "mail", "search"]), r.randint(1, 48))


def date(r):
    d = r.randint(1, 28)
    m = r.choice(MONTHS)
    return r.choice(["%s %d" % (m, d), "%d %s" % (d, m), "the %s of %s" % (ordinal_num(d), m)])


def ordinal_num(d):
    if 10 <= d % 100 <= 20:
        suf = "th"
    else:
        suf = {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    return "%d%s" % (d, suf)


def ordinal(r):
    return r.choice(["second", "third", "fourth", "fifth", "tenth", "umpteenth"] +
                    [ordinal_num(r.randint(4, 30))])


def year(r):
    return str(r.choice([r.randint(1850, 1999), r.randint(2000, 2030)]))


def win_score(r):
    a = r.randint(2, 6)
    return "%d-%d" % (a, r.randint(0, a - 1))


def votes(r):
    a = r.randint(5, 30)
    b = r.randint(1, a - 1)
    return "%d to %d" % (a, b)


def big_score(r):
    a = r.randint(60, 130)
    return "%d-%d" % (a, a - r.randint(1, 9))


def flight(r):
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return "%s%s %d" % (r.choice(letters), r.choice(letters), r.randint(10, 2999))


def gate(r):
    return "%s%d" % (r.choice("ABCDEFGH"), r.randint(1, 60))


def room_no(r):
    return "%d%02d" % (r.randint(1, 9), r.randint(1, 40))


def code(r):
    return "%03d %03d %03d" % (r.randint(0, 999), r.randint(0, 999), r.randint(0, 999))


def order_id(r):
    return "#%d" % r.randint(10000, 999999)


def gb(r):
    return str(r.choice([r.randint(2, 900), r.randint(1, 40) * 100]))


def speed(r):
    return "%d km/h" % (r.randint(4, 16) * 10)


def stars(r):
    return r.choice(["One", "Two", "Three", "Four", "Five"])


def buildnum(r):
    return "#%d" % r.randint(100, 9999)


def code_name(r):
    return r.choice(["agent", "node", "bot", "worker"]) + "-" + r.choice(
        words("amber basil cedar delta ember fjord garnet harbor indigo juniper kelp lumen maple "
              "nectar onyx pebble quartz rowan sable tansy umbra velvet willow yucca zinnia")) + \
        "-" + str(r.randint(1, 99))


# ----------------------------------------------------------------------------------------------
# Lexicon
# ----------------------------------------------------------------------------------------------

L = {}

# --- people ---
L["name"] = words("""
Aaliyah Abdul Ada Adaeze Adrian Agnes Ahmed Aiko Alba Aleksander Alice Amara Amir Ana Anders
Andile Anika Anton Arjun Astrid Aurelio Ayesha Baptiste Beatriz Bilal Bjorn Bogdan Bruno Caitlin
Camila Carmen Cedric Chen Chiara Chidi Clara Conor Dalia Damian Daniela Darius Deepa Dmitri
Dolores Duc Eamon Edith Efua Elif Elena Emeka Emil Esme Ewa Fatima Felix Femi Fiona Florin Freya
Gabriel Gareth Gita Goran Grace Gustavo Hana Hamid Hannah Harriet Hassan Heidi Hiroshi Hugo
Ibrahim Ida Ilse Imani Ines Ingrid Irene Isaac Ivan Jamal Jana Javier Jia Joaquin Jonah Josefina
Julia Jun Kai Kamala Karim Kasia Kate Kenji Kofi Lars Laila Leon Lena Liam Lin Lorenzo Lucia
Luis Mads Magnus Malik Mara Marcus Mariam Mateo Mei Mika Milan Min Miriam Moses Nadia Naledi
Naomi Nasser Nia Nikhil Nils Noor Olga Oliver Omar Orla Oscar Pablo Paolo Petra Pieter Pooja
Quentin Rafael Rahul Rania Ravi Rena Rhys Rosa Ruth Sadia Salma Samir Sanjay Sara Sean Selin
Shira Sione Sofia Soren Stella Sunita Tariq Tendai Teresa Theo Tomas Tove Uma Valentina Vera
Viktor Wanjiru Wei Wiktor Xavier Yara Yasmin Yusuf Zainab Zara Zeynep Zoltan Bertie Minnie
Rosalind Winston Mabel Ignatius Perpetua Cosmo
""")
L["surname"] = words("""
Abara Achterberg Adeyemi Alvarez Andersen Bajwa Banerjee Barros Becker Bianchi Brennan Castillo
Chowdhury Costa Dahl Dimitrov Dlamini Eriksen Ferreira Fischer Gallagher Garcia Goldberg Haddad
Halvorsen Horvath Ibekwe Ivanova Jensen Kaur Kowalski Kuznetsov Lindqvist Lopez Mahlangu Moreau
Mukherjee Murphy Nakamura Nguyen Novak Okafor Oliveira Osei Park Petrov Quispe Rahman Rossi Sato
Schmidt Silva Sokolov Svensson Tanaka Torres Varga Wojcik Yilmaz Zhang Zielinski Ashworth
Blackwood Cartwright Drummond Fairbanks Greenhalgh Hollis Kettering Lockhart Marchetti Nightingale
Pemberton Quigley Rutherford Thistlewood Underhill Whitcombe
""")
L["fullname"] = ["{name} {surname}"]
L["relative"] = phrases("""mum; dad; sister; brother; aunt; uncle; cousin; grandmother; grandfather;
grandma; grandpa; niece; nephew; daughter; son; partner; wife; husband; stepmother; stepdad;
godmother; father-in-law; mother-in-law; sister-in-law; brother-in-law; flatmate; neighbour;
oldest friend; childhood friend; landlady""")
L["role"] = phrases("""on-call engineer; night nurse; site manager; landlord; dentist; plumber;
delivery driver; head chef; product owner; intern; accountant; coach; librarian; receptionist;
pharmacist; tour guide; auditor; translator; electrician; vet; caretaker; team lead; recruiter;
architect; barista; bus driver; midwife; locksmith; headteacher; sound engineer; stage manager;
florist; harbour master; park ranger; security guard; data analyst; release manager;
support agent; office manager; project manager; gardener; physiotherapist; optician;
postwoman; postman; beekeeper; tailor; mechanic; event planner; copy editor; lab technician""")
L["who"] = ["{name}", "{name}", "{name}", "{fullname}", "my {relative}", "our {role}",
            "the {role}", "{name} from {teamname}", "{name} and {name}"]
L["teamname"] = phrases("""payments; search; mobile; data platform; billing; infrastructure;
security; support; growth; design; identity; logistics; research; finance; legal; warehouse;
kitchen; front desk; night shift; QA; customer success; localization; procurement; facilities;
events; editorial; fleet operations; evaluation""")
L["team"] = ["the {teamname} team", "the {teamname} people", "anyone on the {teamname} team"]
L["agentrole"] = words("""planner researcher summarizer critic coder reviewer router scheduler
translator retriever verifier archivist negotiator monitor tutor triage""")
L["agentname"] = [code_name]
L["modelname"] = phrases("""a small instruct model; the tiny chat model; a 270M model; a quantized
model; the distilled model; a fine-tuned checkpoint""")

# --- places ---
CITY_GROUPS = [phrases(g) for g in (
    "Lisbon; Porto; Seville; Valencia; Bilbao",
    "Lyon; Marseille; Nantes; Bordeaux",
    "Ghent; Antwerp; Utrecht; Rotterdam; Leiden",
    "Hamburg; Leipzig; Dresden; Cologne; Munich; Zurich; Basel; Geneva; Vienna; Graz; Salzburg",
    "Prague; Brno; Krakow; Gdansk; Wroclaw; Budapest; Debrecen",
    "Ljubljana; Zagreb; Split; Belgrade; Sarajevo; Sofia; Plovdiv; Bucharest; Cluj; Athens; "
    "Thessaloniki",
    "Istanbul; Izmir; Tbilisi; Yerevan; Baku",
    "Cairo; Alexandria; Tunis; Casablanca; Marrakesh",
    "Dakar; Accra; Lagos; Abuja",
    "Nairobi; Mombasa; Kampala; Kigali; Addis Ababa",
    "Lusaka; Harare; Durban; Johannesburg; Windhoek; Cape Town",
    "Muscat; Doha; Amman; Beirut",
    "Karachi; Lahore; Mumbai; Pune; Chennai; Kolkata; Jaipur; Dhaka; Kathmandu; Colombo",
    "Bangkok; Chiang Mai; Hanoi; Saigon; Penang; Singapore; Kuala Lumpur",
    "Manila; Cebu",
    "Jakarta; Surabaya",
    "Busan; Seoul",
    "Osaka; Kyoto; Sapporo; Fukuoka",
    "Shanghai; Chengdu; Kunming; Hong Kong",
    "Taipei",
    "Perth; Adelaide; Brisbane; Hobart",
    "Auckland; Wellington; Christchurch",
    "Vancouver; Calgary; Winnipeg; Montreal; Halifax; Seattle; Portland; Denver; Austin; "
    "Chicago; Detroit; Boston; Baltimore; Atlanta; Miami; New Orleans",
    "Havana; Oaxaca; Monterrey; Guadalajara; Mexico City; San Jose",
    "Bogota; Medellin; Quito; Lima; Cusco; La Paz; Santiago; Valparaiso; Mendoza; Buenos Aires; "
    "Montevideo; Asuncion; Recife; Salvador; Curitiba; Belem",
    "Tromso; Bergen; Oslo; Gothenburg; Malmo; Aarhus; Tampere; Turku",
    "Reykjavik",
    "Tallinn; Tartu; Riga; Vilnius; Kaunas",
    "Cork; Galway; Belfast; Cardiff; Swansea; Bristol; Leeds; Sheffield; Glasgow; Aberdeen; "
    "Inverness; Norwich; York",
    "Almaty; Tashkent; Ulaanbaatar; Bishkek; Samarkand",
    "Suva", "Honolulu", "Apia", "Noumea")]
L["city"] = [c for g in CITY_GROUPS for c in g]


def _city_two(r):
    pool = [g for g in CITY_GROUPS if len(g) >= 2]
    g = r.weighted([(len(x), x) for x in pool])
    a = r.below(len(g))
    b = (a + 1 + r.below(len(g) - 1)) % len(g)
    return g[a], g[b]


def city_to(r):
    return "%s to %s" % _city_two(r)


def city_and(r):
    return "%s and %s" % _city_two(r)


L["country"] = phrases("""Portugal; Chile; Kenya; Japan; Norway; Vietnam; Ghana; Peru; Iceland;
Morocco; Georgia; Mongolia; Canada; Scotland; Wales; Ireland; Poland; Greece; Turkey; Brazil;
Argentina; Mexico; Colombia; Egypt; Tanzania; Namibia; Indonesia; the Philippines;
New Zealand; Sri Lanka; Nepal; Slovenia; Estonia; Finland; Uruguay; Senegal; Jordan; Oman;
Laos; Cambodia; Malta; Cyprus; Albania; Croatia""")
L["region"] = phrases("""the north; the coast; the valleys; the east side; the islands;
the highlands; the south-west; the city centre; the suburbs; the mountains; the river delta;
the border towns; the lake district; the old quarter; the western plains""")
L["region_name"] = phrases("""Europe; South America; East Africa; the Nordics; Southeast Asia;
the Gulf; Australia; the Pacific Northwest; Central Asia; the Caribbean; West Africa;
the Baltics; the Balkans; Iberia; Canada; Japan""")
L["streetname"] = words("""Elm Mill Harbour Station Church Bridge Castle Orchard Victoria Market
Canal Quarry Willow Chestnut Linden Ferry Garden Hill Maple Union King Queen Foundry Tannery
Granary Rope Weaver Cooper Fletcher Chandler Abbey Beacon Cinder Dock Ember Fountain Gasworks
Hatter Juniper Kiln Lantern Magnolia Nettle Oriel Pottery Rookery Saddler Thimble""")
L["street"] = ["{streetname} [Street|Road|Lane|Avenue|Way|Square|Terrace|Close|Row|Crescent]"]
L["town_place"] = phrases("""library; bakery; post office; swimming pool; town hall;
train station; bus depot; farmers market; community centre; pharmacy; hardware shop;
laundrette; cinema; football ground; museum; harbour; bike shop; corner shop; fire station;
primary school; dental clinic; car park; playground; skate park; allotments; church hall;
bowling alley; garden centre; ferry terminal; petrol station; recycling centre; vet's surgery;
youth club; ice rink; bandstand; covered market; public baths; night shelter; food bank;
repair cafe; tool library; climbing wall; boat club; observatory; city archive""")
L["river"] = phrases("""the river; the canal; the old mill stream; the estuary; the towpath;
the harbour wall; the lake shore; the beach; the railway embankment; the ring road""")
L["room"] = phrases("""kitchen; hallway; spare room; garage; shed; attic; basement; meeting
room; server room; break room; loft; utility room; living room; lab; studio; workshop; porch;
greenhouse; bathroom""")
L["landmark"] = phrases("""cathedral; old harbour; lighthouse; castle ruins; botanical garden;
fish market; city wall; clock tower; waterfall; viewpoint; covered market; opera house;
river walk; old town; cable car; monastery; salt flats; sand dunes; glacier; hot springs;
night market; tea plantation; fortress; aqueduct; stepwell; mangrove walk; rice terraces;
flower market; observatory; sculpture park""")

# --- work and technology ---
L["svcname"] = phrases("""billing; checkout; search; auth; notification; recommendation;
invoice; image resize; geocoding; translation; ingestion; export; reporting; scheduler;
payment gateway; inventory; pricing; shipping label; fraud scoring; email digest; upload;
session; profile; audit log; feature flag; rate limit; embeddings; transcription;
summarization; routing""")
L["svc"] = ["the {svcname} service", "the {svcname} API", "the {svcname} service"]
L["component"] = phrases("""cache; primary database; read replica; message queue; load balancer;
ingress controller; object store; CDN; DNS resolver; rate limiter; cron scheduler; metrics
pipeline; log shipper; TLS certificate; build runner; container registry; GPU node; worker pool;
connection pool; search index; backup job; service mesh; secrets vault; SMTP relay; VPN gateway;
status page; CI pipeline; artifact store; broker; bridge loader""")
L["replicas"] = words("nodes workers replicas pods brokers agents shards runners")
L["symptom"] = phrases("""latency jumped to {n3} ms at the 99th percentile; the error rate
climbed to {pct}; memory kept growing until the pods were killed; disk usage hit {pct} on two
nodes; requests started timing out after {n2} seconds; the queue backed up to {bignum} messages;
CPU sat at 100 percent for {duration}; half the health checks failed; logins failed for users in
{region_name}; the nightly export produced an empty file; duplicate emails went out to {n3}
customers; the dashboard stopped updating; a certificate expired without warning; every third
upload came back corrupted; the search results were a day out of date; payments were stuck in
a pending state; the mobile app showed a blank screen on launch; webhooks were delivered twice;
clock skew reached {n2} seconds on one host; the build cache was silently ignored""")
L["cause"] = phrases("""a bad config push; a full disk on the primary; an expired certificate;
a retry storm from one client; a schema migration that locked the table; a DNS change that had
not propagated; a memory leak in the new parser; an upstream provider outage; a typo in a
firewall rule; a cron job that ran twice; clock drift on one host; a dependency upgrade; a
runaway query from the reporting tool; a feature flag left on in production; a forgotten
debug log at full volume; an unbounded retry loop; a cable pulled during maintenance; a
race between two deploys; a cache key collision; a misrouted alert; a silent change in the
vendor's API""")
L["fix"] = phrases("""rolled back to {version}; restarted the affected pods; doubled the worker
pool; flushed the cache; failed over to the standby; raised the connection limit; rotated the
expired certificate; turned off the new feature flag; added an index on the orders table;
pinned the library to the previous release; drained the bad node; reran the job by hand;
throttled the noisy client; patched the config and redeployed; cleared {gb} GB of old logs;
moved traffic to the other region; reverted the firewall change""")
L["job"] = phrases("""nightly backup; invoice export; search reindex; log rotation; data sync;
thumbnail rebuild; evaluation run; billing reconciliation; sitemap crawl; CRM import;
calibration run; bridge fitting job; weekly digest; cold storage sweep; dependency scan;
payroll batch; price refresh; model distillation; transcript cleanup""")
L["work_ing"] = phrases("""the data cleanup; the quarterly report; the migration to the new
cluster; the translation of the help pages; the accessibility audit; the budget forecast;
the move to the new office; the label correction pass; the vendor review; the onboarding
guide; the dependency upgrade; the photo archive scan; the inventory count""")
L["work_done"] = phrases("""the first pass over the contracts; reviewing the {n2} open pull
requests; tagging last month's support tickets; the draft of the press release; the seating
plan for {event}; cleaning up the shared drive; the comparison of the three
[cleaning|catering|printing|insurance] quotes;
checking every link in the docs; the literature search on {sci_topic}; testing the new
{device} firmware""")
L["maint"] = phrases("""upgrade the database; move to new hardware; rotate the keys; rebuild
the search index; apply the security patches; resize the disks; swap the network cards;
re-shard the largest tables""")
L["version"] = [version]
L["host"] = [host]
L["ticket"] = [ticket]
L["branch"] = ["main", "release/{n1}.{n2}", "feature/{feature_slug}", "hotfix/{feature_slug}"]
L["feature_slug"] = words("""dark-mode bulk-export new-onboarding retry-budget search-filters
offline-sync invoice-pdf two-factor int4-packets audio-notes map-tiles""")
L["feature"] = phrases("""dark mode; bulk export; the new onboarding flow; offline sync;
two-factor login; saved searches; the redesigned checkout; voice notes; shared calendars;
smart replies; the referral programme; the usage dashboard; per-seat pricing; map clustering""")
L["module"] = phrases("""the date parser; the CSV importer; the auth middleware; the retry
helper; the PDF renderer; the tokenizer tests; the quantizer; the config loader""")
L["theme"] = phrases("""slow page loads on older phones; confusing invoice wording; missing
receipts; password reset emails that never arrive; the search ignoring accents; surprise
renewal charges; the app forgetting the language setting""")
L["doc"] = phrases("""slides; meeting notes; quarterly report; budget sheet; contract draft;
onboarding checklist; release notes; floor plan; grant application; risk register; minutes
from {day}; invoice; project brief; rota for next week; seating chart; reading list;
packing list; recipe; itinerary; expense claim; lease agreement; insurance form""")
L["artifact"] = phrases("""the draft answer; the summary of the contract; the translated
help page; the generated SQL; the release notes; the patch for {ticket}; the test plan""")
L["check_what"] = phrases("""factual errors; missing citations; broken links; anything that
contradicts the brief; tone; numbers that do not add up; security problems""")
L["topic_any"] = phrases("""refunds; the new pricing; shipping delays; password resets; the
ferry timetable; solar panels; school holidays; the office move; vaccination records;
battery life; the quarterly numbers; gluten-free options; parking permits""")
L["device"] = phrases("""phone; laptop; tablet; router; smart watch; e-reader; printer; smart
speaker; thermostat; dishwasher; washing machine; robot vacuum; doorbell camera; car stereo;
headphones; keyboard; monitor; projector; game console; drone; baby monitor; label printer""")
L["tool"] = phrases("""Postgres; SQLite; Redis; Kafka; nginx; Terraform; Kubernetes; Grafana;
a spreadsheet; a shell script; cron; Rust; Go; Python; plain Makefiles; a whiteboard;
sticky notes; a paper notebook""")
L["sci_topic"] = phrases("""soil carbon; urban heat islands; sleep and memory; bird migration;
battery chemistry; microplastics; gut bacteria; coral bleaching""")

# --- everyday things ---
L["obj"] = phrases("""kettle; toaster; ironing board; bookshelf; bike pump; garden hose; ladder;
extension cable; sewing machine; vacuum cleaner; wheelbarrow; camping stove; radiator; bathroom
tap; back gate; spare key; shoe rack; desk lamp; fridge; freezer; microwave; washing line;
recycling bin; compost bin; tool box; power drill; paint roller; smoke alarm; doorbell;
letterbox; coffee grinder; rice cooker; shower head; fan heater; laundry basket; step stool;
stapler; label maker; whiteboard marker; projector remote; first aid kit; fire blanket;
tent pegs; snow shovel; deck chairs; picnic blanket""")
L["thing"] = phrases("""stapler; label maker; tape measure; bike pump; spare key; projector
remote; phone charger; umbrella; torch; good scissors; headphones; reading glasses; car keys;
library card; hole punch; extension cable; screwdriver; thermos; power drill; step stool;
whiteboard marker; tent pegs; picnic blanket; tool box; passport; blue notebook; travel mug""")
L["home_appliance"] = phrases("""kettle; toaster; fridge; freezer; microwave; fan heater; vacuum
cleaner; washing machine; dishwasher; boiler; extractor fan; coffee grinder; rice cooker;
sewing machine; tumble dryer""")
L["supply"] = phrases("""printer paper; coffee beans; oat milk; bin bags; AA batteries; masking
tape; envelopes; hand soap; tea bags; dish tablets; light bulbs; sticky notes; cable ties""")
L["shopping"] = phrases("""a loaf of bread; some milk; eggs and butter; a bag of lemons; the
dry cleaning; cat food; a birthday card for {name}; two tins of tomatoes; fresh basil; a new
toothbrush; the parcel from the post office; bin bags; a bunch of flowers""")
L["pet"] = phrases("""cat; dog; rabbit; goldfish; tortoise; hamster; parrot; guinea pig;
budgie; old dog; kitten""")
L["animal"] = phrases("""fox; heron; badger; hedgehog; owl; woodpecker; deer; otter; seal;
dolphin; kingfisher; squirrel; hare; crow; magpie; robin; swan; goose; bat; frog; toad; newt;
butterfly; bumblebee; dragonfly; kestrel; buzzard; lizard; tortoise; goat; donkey; alpaca;
peacock; pelican; stork; wild boar; porcupine; raccoon; moose; lynx; flamingo; sea turtle;
octopus; jellyfish; barn owl; stag beetle""")
L["garden_animal"] = phrases("""fox; heron; badger; hedgehog; owl; woodpecker; deer; squirrel;
hare; crow; magpie; robin; wren; blackbird; jay; frog; toad; newt; butterfly; bumblebee;
dragonfly; kestrel; buzzard; pheasant; slow worm; grass snake; stag beetle""")
L["plant"] = phrases("""tomato plants; sunflowers; runner beans; lavender; roses; apple tree;
potatoes; strawberries; basil; sweet peas; tulips; daffodils; courgettes; hedge; lawn;
chillies; peonies; fig tree; rhubarb; snowdrops; herb pots; pumpkins; blackcurrants;
hydrangeas""")
L["color"] = words("green red amber blue white orange purple")
L["appliance"] = phrases("""oven; heater; iron; coffee machine; hob; fan; hair straighteners;
printer; dehumidifier; soldering iron; kiln; glue gun""")
L["hiding_spot"] = phrases("""under the blue pot; with {name} next door; in the key safe; on
the hook by the door; behind the loose brick; at the front desk""")

# --- food ---
L["dish"] = phrases("""lentil soup; mushroom risotto; fish tacos; chicken curry; vegetable
lasagne; beef stew; pad thai; shakshuka; ramen; falafel wraps; banana bread; apple crumble;
carrot cake; paella; pierogi; dumplings; jollof rice; bibimbap; gnocchi; moussaka; goulash;
chili; pancakes; waffles; omelettes; quiche; pho; tagine; empanadas; sushi; ceviche;
biryani; dal; minestrone; porridge; french toast; spring rolls; couscous salad; roast
potatoes; cornbread; pumpkin pie; lemon tart; flatbreads; pesto pasta; tomato soup; grilled
halloumi; stuffed peppers; fried rice; beans on toast; fish pie; mac and cheese; chickpea
stew; noodle salad; scones; brownies; granola; gazpacho; arancini; kimchi pancakes; sourdough
pizza; plum cake; onion bhajis; bean burritos; katsu curry; corn chowder""")
L["ingredient"] = phrases("""garlic; ginger; lemon zest; smoked paprika; cumin; fresh basil;
coriander; spinach; feta; chickpeas; butter beans; sweet potato; leeks; fennel; capers;
anchovies; honey; maple syrup; tahini; miso; soy sauce; chili flakes; cinnamon; nutmeg;
cardamom; oats; almonds; walnuts; pistachios; dark chocolate; yoghurt; cream; parmesan;
mozzarella; cheddar; eggs; barley; lentils; quinoa; mushrooms; aubergine; courgette; kale;
cabbage; beetroot; celery; shallots; tomatoes; red peppers; cucumber; avocado; mango;
pineapple; blueberries; raspberries; rhubarb; pears; plums; figs; dates; olives; brown sugar;
vanilla; saffron; rosemary; thyme; mint; dill; sesame seeds; coconut milk; black beans;
sumac; star anise""")
L["drink"] = phrases("""coffee; tea; lemonade; hot chocolate; sparkling water; orange juice;
cider; mint tea; iced coffee; smoothies; cocoa; ginger beer; oat milk lattes; espresso;
chai; kombucha""")
L["cuisine"] = words("""Ethiopian Lebanese Korean Peruvian Georgian Vietnamese Sicilian Nepalese
Mexican Turkish Persian Malaysian Portuguese Basque Cantonese Nigerian Greek Filipino Uzbek
Jamaican Yemeni""")
L["bread"] = phrases("""rye loaf; cinnamon buns; sourdough; seeded bagels; focaccia; soda
bread; croissants; pretzels; flatbread; fruit loaf""")

# --- travel, health, family, nature ---
L["transport"] = phrases("""night train; ferry; coach; tram; cable car; rental car; overnight
bus; regional flight; water taxi; commuter train; shuttle bus; sleeper carriage""")
L["long_transport"] = phrases("""night train; coach; overnight bus; regional flight; sleeper
train; express train; early train; slow train""")
L["luggage"] = phrases("""passport; charger; umbrella; rain jacket; walking boots; sunscreen;
swimsuit; travel adapter; earplugs; paper map; guidebook; water bottle; sunglasses; wool socks;
first aid kit; snacks; phrasebook; spare glasses; head torch""")
L["bodypart1"] = phrases("""back; neck; left ankle; right wrist; lower back; elbow; thumb;
left knee; right shoulder; hip""")
L["bodypart"] = phrases("""back; knees; shoulders; neck; ankle; wrist; hamstrings; lower back;
calves; hips; elbow; feet; thumb""")
L["activity"] = words("""running swimming cycling yoga rowing climbing pilates weightlifting
hiking dancing walking stretching kayaking skating bouldering""") + ["tai chi", "skipping rope"]
L["illness"] = phrases("""a cold; the flu; a stomach bug; a sore throat; an ear infection;
hay fever; a migraine; a sprained ankle; a chest infection; conjunctivitis; tonsillitis;
chickenpox; a bad back""")
L["appointment"] = phrases("""blood test; eye test; dental check-up; physio session; flu jab;
hearing test; skin check; annual check-up; x-ray; vaccination; smear test; allergy test""")
L["event"] = phrases("""the summer party; the product launch; the charity quiz; the
school fair; the board meeting; the wedding; the open day; the hackathon; the retirement
lunch; the book club; the street party; the conference in {city}""")
L["celebration"] = phrases("""a picnic in the park; a surprise dinner; a small garden party; a
trip to the seaside; a karaoke night; a quiet meal at home; a barbecue; a cake and a film""")
L["condition"] = phrases("""sunny; overcast; drizzly; foggy; windy; humid; freezing; muggy;
bright but chilly; grey and damp; clear and frosty; stormy; hazy; bitterly cold; mild;
sticky; breezy; blustery; close and thundery""")
L["wx_event"] = phrases("""heavy rain; a cold front; thunderstorms; a heatwave; sleet; hail;
gale-force winds; snow showers; dense fog; a dust storm; freezing rain; black ice; a hard
frost; flash flooding""")
L["season"] = words("spring summer autumn winter")
L["sport"] = phrases("""football; cricket; tennis; rugby; basketball; volleyball; hockey;
cycling; swimming; chess; badminton; table tennis; netball; baseball; handball; golf;
athletics; rowing; boxing; darts; snooker; skiing; water polo; ultimate frisbee; squash""")
L["club"] = ["{city} [United|City|Rovers|Athletic|Wanderers|Harriers|Falcons|Lions|Comets|Tigers]"]
L["compname"] = words("""Northwind Bluefin Greystone Halcyon Ironbark Juniper Kestrel Larkspur
Meridian Oakridge Pinecrest Quayside Redwood Silverline Tidewater Vantage Westbrook Yarrow
Alder Brightwater Copperfield Driftwood Emberly Foxglove Goldcrest Hartwell Lindenhall
Marrowbone Nettlefield""")
L["company"] = ["{compname} [Ltd|Group|Holdings|Logistics|Foods|Labs|Energy|Textiles|Robotics|"
                "Pharma|Motors|Media|Bank|Airways|Software|Telecom|Insurance]"]
L["metric"] = phrases("""revenue; profit; sales; operating costs; bookings; exports; online sales;
subscription income""")
L["language"] = phrases("""Spanish; Portuguese; Swahili; Japanese; Polish; Turkish; Korean;
Hindi; Arabic; Dutch; Vietnamese; Greek; Welsh; Finnish; Tagalog""")
L["day"] = DAYS
L["month"] = MONTHS
L["when_by"] = ["tonight", "tomorrow morning", "{day}", "the end of the week", "{date}",
                "{time12}", "lunch", "the {meeting}", "end of play", "Monday at the latest"]
L["adj_place"] = phrases("""lovely; excellent; cosy; spotless; friendly; charming; superb;
brilliant; a real find; good value; worth the trip; always busy for a reason""")
L["when"] = ["this morning", "this afternoon", "tonight", "tomorrow morning", "later today",
             "on {day}", "first thing tomorrow", "by the end of the week", "over the weekend",
             "next {day}", "before lunch", "after the holidays", "by {date}", "at {time12}",
             "in {month}", "straight after the {meeting}"]
L["meeting"] = phrases("""standup; planning meeting; retro; budget review; all-hands; design
review; parents' evening; team lunch; one-to-one; client call; viewing; rehearsal""")

# number / time slots
for _fn in (n1, n2, n3, n4, bignum, pct, pct_round, time24, time12, timeline, steps, duration,
            span24, span12, x_of_y, loss_pair, budget, minute, short_dur, cook_time, oven, price,
            temp_cold, temp_mild, temp_hot, long_distance, city_to, city_and, money, money_big,
            date, ordinal, year, tickets_sold, order_total, deal_value, votes, ex_dur, win_score,
            big_score, flight, gate, room_no, code, order_id, gb, speed, stars, buildnum):
    L[_fn.__name__] = [_fn]
L["time24b"] = [time24]

# ----------------------------------------------------------------------------------------------
# Frames, by kind of message
# ----------------------------------------------------------------------------------------------

F = {}

F["status"] = [
    "Deploy of {svc} {version} [finished|completed|went out] at {time24}[; all checks are green|"
    "; smoke tests passed|, and error rates look normal| without a single failed request|. I'll "
    "keep an eye on it for the next hour].",
    "The {job} [finished|ran] in {duration}[ with no warnings| and skipped {n3} malformed "
    "records|, quicker than last week|, which is about as slow as usual].",
    "Status: {work_ing} is roughly {pct_round} done[, and I expect to wrap up {when}|; the rest "
    "depends on {who} signing off|. No blockers so far|, slower than planned because of {cause}].",
    "Batch {x_of_y} processed. {n2} items failed validation and went to the retry queue.",
    "All {n2} {replicas} are healthy again[ and the backlog is down to {bignum} messages|; "
    "nobody needs to do anything|, so I'm closing the alert].",
    "Heads up: {svc} will be read-only from {span24} while we {maint}.",
    "^{agentrole} agent here: subtask {x_of_y} is done, handing the results to the "
    "{agentrole} agent.",
    "I condensed {n3} support tickets into {n1} themes; the biggest one by far is {theme}.",
    "Retrieval returned {n3} passages, but only {n1} of them actually mention {topic_any}.",
    "Build {buildnum} [passed|failed] on {branch}[; the failure is a flaky test in {module}| "
    "after {duration}|, and nobody has touched it since {day}].",
    "Migration {n3} ran on {host} in {duration}[; no lock was held for more than {n1} seconds|"
    " and nothing else noticed|, twice as long as the dry run].",
    "Backups for {date} are verified: {n2} snapshots, {gb} GB in total, and the restore test "
    "passed.",
    "Finished {work_done}. [The summary is in the shared folder.|Results are attached to {ticket}."
    "|The numbers look sensible to me.|Two things need a human decision.]",
    "Queue depth on {host} is [climbing|flat|falling] at about {n3} messages a minute; [no action "
    "needed yet|I'll check again at {time24}|I'll scale out if it passes {bignum}].",
    "Checkpoint saved at step {bignum}; validation loss is {loss_pair} "
    "[yesterday|at the last checkpoint|before the restart].",
    "Crawler agent: fetched {n4} pages from {n3} sites and skipped {n2} that blocked us.",
    "Rolled out {feature} to {pct} of users in {region_name}; feedback so far is [mixed|"
    "encouraging|quiet|mostly about the colours].",
    "The translation of the {doc} into {language} is done, and {name} is proofreading it now.",
    "I'm pausing the {job} until {who} confirms the new "
    "[settings|thresholds|credentials|schedule].",
    "Reindexing [is halfway through|finished early|is stuck on shard {n1}]; search results may "
    "look odd for {duration}.",
    "Everything on {host} looks normal after the reboot: disk at {pct}, load average under {n1}.",
    "Scheduler agent: {n2} jobs queued, {n1} running, none failed since {time24}.",
    "Evaluation finished: the new checkpoint wins on {x_of_y} tasks and loses badly on "
    "[arithmetic|long inputs|names|dates].",
    "Verifier agent: I could not confirm the claim about {topic_any}; sending it back to the "
    "researcher with two counterexamples.",
    "Quick status from the warehouse: {n3} parcels out, {n2} returns in, one forklift "
    "[charging|in for repair|missing its key].",
]

F["incident"] = [
    "Incident {ticket}: {symptom} starting at {time24}. Cause looks like {cause_fix}.",
    "Trouble on {svc}: {symptom}. [Investigating now.|On-call has been paged.|No customer "
    "impact yet as far as we can tell.|I'll post again in {n2} minutes.]",
    "Resolved at {time24}: {svc} is back to normal after we {fix}.",
    "The post-mortem draft for {ticket} is ready. Root cause: {cause}. Action items: {action} and "
    "{action}.",
    "Alert fired for the {component} on {host} at {time24}[; it turned out to be a false alarm"
    "| and cleared on its own after {duration}|, and I'm on it|, second time this week].",
    "Customers in {region_name} [could not log in|saw blank pages|were charged twice|could not "
    "upload photos|got someone else's receipts] for about {short_dur} this morning.",
    "Paging {name}: the {component} on {host} is [unreachable|flapping|out of disk|refusing "
    "connections] and I can't reach {team}.",
    "Timeline so far: {timeline}.",
    "Lesson from last night's outage: {lesson}.",
    "The {component} ran out of [disk|memory|file handles|connections] on {host}, which took "
    "down {svc} for {duration}.",
    "Severity {n1} declared for {svc}; updates every {n2} minutes in the incident channel.",
    "Rollback complete. {svc} is on {version} again and we're watching the error rate.",
    "Root cause confirmed: {cause_fix}, and {svc} has been stable for {duration} since.",
    "Near miss today: {cause} almost took down {svc}, but the canary caught it.",
    "Security notice: a [leaked token|phishing email|stolen laptop|misconfigured bucket] was "
    "reported at {time24}; credentials for {team} have been rotated.",
]
CAUSE_FIX = [
    ("a bad config push", "reverted it"),
    ("a full disk on the primary", "cleared {gb} GB of old logs"),
    ("an expired certificate", "rotated it and added an expiry alert"),
    ("a retry storm from one client", "throttled that client"),
    ("a schema migration that locked the table", "killed the migration and rescheduled it"),
    ("a memory leak in the new parser", "rolled back to {version}"),
    ("an upstream provider outage", "moved traffic to the other region"),
    ("a typo in a firewall rule", "reverted the firewall change"),
    ("a cron job that ran twice", "added a lock to the job"),
    ("a dependency upgrade", "pinned the library to the previous release"),
    ("a runaway query from the reporting tool", "killed the query and added a timeout"),
    ("a feature flag left on in production", "switched the flag off"),
    ("one bad node", "drained it and replaced the disk"),
    ("too few workers for the evening peak", "doubled the worker pool"),
    ("a stale cache", "flushed the cache"),
]
L["cause_fix"] = ["%s, so we %s" % p for p in CAUSE_FIX]
L["action"] = phrases("""add an alert on disk usage; document the failover steps; rate-limit
the retry path; add a canary for config pushes; move the status page off our own servers;
write a runbook for the {component}; test restores every month; give every alert an owner""")
L["lesson"] = phrases("""test the restore, not just the backup; every alert needs an owner;
don't ship big changes on a Friday afternoon; write the runbook before you need it; the status
page should not live on the same servers; keep the rollback button one click away; rate-limit
every client, including our own; check the disk before blaming the network; people need sleep
between shifts; dashboards lie when the metrics pipeline is down""")

F["request"] = [
    "Could you [send me|forward me|share] the {doc} [before|by] {when_by}?",
    "Please {task} [before|by] {when_by}[, thanks|. It's blocking {who}|; no rush otherwise|].",
    "Can someone {task}? [I'm stuck in meetings all afternoon.|My laptop is in for repair.|I won't "
    "have access until {day}.|I'd do it myself but I'm on a train.]",
    "{name}, would you mind {task_ing} [when you get a moment|today|before the {meeting}]?",
    "I need {n1} volunteers to {volunteer_task} on {day}[; snacks provided|, ideally people with "
    "a car|. Reply here if you can].",
    "When you're back, could you take a look at the {home_appliance}? It [is making that noise "
    "again|still "
    "won't switch on|is leaking onto the floor].",
    "Reviewer agent, please check {artifact} for {check_what} and reply with a list of issues.",
    "Router: send anything about {topic_any} to the {agentrole} agent from now on.",
    "Let me know if you can cover my shift on {day} from {span12}.",
    "Any chance you could pick up {shopping} on your way home?",
    "Please don't [touch|move|borrow] the {thing} in the {room}; [it's glued together|it's "
    "{name}'s|the paint is still wet|it's part of an experiment].",
    "If you have a spare minute, read {ticket} and tell me what you think.",
    "Would you be able to [water|keep an eye on] the {plant} while we're in {city}?",
    "Can we move the {meeting} to {day}? [I have a {appointment} at the same time.|Half the team "
    "is off.|The room is double-booked.]",
    "Please remember to {reminder} [before you leave|tonight|when you finish]; it saves everyone "
    "a headache.",
    "Could someone with admin rights {task}? I keep getting a permission error.",
    "Summarizer, give me the three most important points from the {doc}, in plain language.",
    "Translator agent: put this [notice|menu|apology|job advert] into {language} and keep it "
    "under {n3} characters.",
]
L["task"] = phrases("""update the {doc}; approve the pull request for {feature}; renew the
certificate on {host}; book a room for {n2} people; order more {supply}; sign the [contract
draft|lease agreement|insurance form|expense claim]; check
the numbers in the {doc}; call the {role} back; reset {name}'s password; restart the {job};
archive last year's invoices; feed the {pet}; move the {meeting} to {day}; print {n2} copies
of the {doc}; update the wiki page for {svc}; water the {plant}; let the {role} in at
{time12}; chase {company} about the late delivery""")
L["task_ing"] = phrases("""updating the {doc}; having a look at {ticket}; booking the
{transport} tickets; taking the minutes; bringing the projector; collecting {name} from the
station; checking the {doc} for typos; taking the recycling out; emptying the dishwasher;
sending round the agenda; calling the {role}; testing the new {device}""")
L["volunteer_task"] = phrases("""help set up chairs; run the tea stall; sort donations at the
{town_place}; paint the fence; count birds in the park; carry boxes up three flights of
stairs; pick litter along {river}; staff the welcome desk""")
L["reminder"] = phrases("""lock the back door; switch off the {appliance}; log your hours;
put the milk back in the fridge; sign out of the shared laptop; close the windows; top up the
printer paper; turn the heating down""")

F["question"] = [
    "Does anyone know [why|whether|when|how] {q_clause}?",
    "What time does the {town_place} [open|close] on {day}s?",
    "Which [version|branch|config] are we running on {host} right now?",
    "How long does the {long_transport} from {city_to} take these days?",
    "Is the {meeting} still on for {time12}, or did it move?",
    "Where did you put the {thing}? It's not in the {room}.",
    "Has anyone heard from {name} since {day}?",
    "Who is on call this weekend, {name} or {name}?",
    "Are we still doing {celebration} on {day}?",
    "How many {supply} do we actually need for {event}?",
    "Why does {svc} return a 500 every time [someone uploads a large file|the cache is cold|a "
    "name has an apostrophe in it]?",
    "Did the parcel from {company} ever arrive, or should I chase it?",
    "What's the best way to {howto} without [making a mess|spending a fortune|breaking "
    "anything]?",
    "Quick one: do we invoice {company} in euros or dollars?",
    "Would {dish} be all right for dinner, or is that too heavy after lunch?",
    "Any idea how long the roadworks on {street} will last?",
    "Is it normal for the [phone|laptop|tablet|e-bike battery|power bank|smart watch] to get "
    "this hot while charging?",
    "What did the [doctor|physio|nurse|osteopath|pharmacist] say about your {bodypart1}?",
    "Can anyone recommend a good {cuisine} restaurant near {landmark_near}?",
    "When was the last time someone actually tested the {component} failover?",
    "Do you remember the name of that {cuisine} place we went to in {city}?",
    "Which agent owns the {job} now that the scheduler was replaced?",
    "How much did we spend on {supply} last quarter, roughly?",
    "Is {name} allergic to {ingredient}, or was that {name}?",
]
L["q_clause"] = phrases("""the {town_place} is closed today; the lift keeps stopping at the
fourth floor; the {job} takes so long on {day}s; the printer only prints in pink; the ferry
stopped running on {day}s; the heating comes on at {time12}; we switched to {tool}; the {device}
reboots at night; the bins are collected after a holiday; the {svc} logs are kept""")
L["howto"] = phrases("""get red wine out of a carpet; descale a kettle; learn {language} in
six months; keep basil alive indoors; fix a squeaky door; pack for a week with one bag; store
{ingredient}; move a piano up a staircase; train a puppy to walk on a lead; back up a
phone; clean a cast iron pan""")
L["landmark_near"] = ["the {landmark}", "the {town_place}", "{street}", "the office"]

F["complaint"] = [
    "For the {ordinal} time this month, {annoyance}.",
    "I've been on hold with {company} for [forty minutes|an hour and ten minutes|{n2} minutes|"
    "most of my lunch break], and still nobody has picked up.",
    "The {obj} we bought [last week|in {month}|on sale] has already [broken|stopped working|"
    "fallen apart|caught fire, slightly].",
    "Honestly, the {transport} was a joke today: {transport_problem}.",
    "The neighbours' [party|drum practice|dog|leaf blower|karaoke machine] went on until "
    "{time12} again.",
    "Still no refund for the {device} I returned in {month}, and nobody answers my emails.",
    "The new app update is awful; {app_problem}.",
    "Our landlord promised to fix the [boiler|leaking roof|front door lock|mouldy window|broken "
    "intercom] [three weeks ago|back in {month}|two months ago|before the holidays] and nothing "
    "has happened.",
    "It took {n1} attempts to submit the form because the site kept [logging me out|timing "
    "out|losing my answers|rejecting my postcode].",
    "Not impressed with the {town_place} today: {service_problem}.",
    "Whoever keeps leaving [fish|burnt popcorn|dirty mugs|wet umbrellas] in the {room} needs to "
    "stop.",
    "Three weeks and the pothole on {street} is still there; it ate my bike tyre this morning.",
    "The coffee machine has been broken since {day} and morale is at an all-time low.",
    "Why is every meeting an hour when it could be an email?",
    "I'm tired of the {svcname} alerts waking me up at {time12} for things that fix themselves.",
]
L["annoyance"] = phrases("""the lift is out of order; someone has taken my lunch from the
fridge; the train has been cancelled; the wifi has dropped during a call; the parcel went to
the wrong address; the bin men skipped our street; the build broke on main; the printer jammed
halfway through the contract""")
L["transport_problem"] = phrases("""{n2} minutes late and nobody said why; no heating and no
seats; it skipped my stop entirely; the card reader was broken so everyone rode for free; we
sat outside {city} for an hour""")
L["app_problem"] = phrases("""the buttons moved and the font is tiny; it logs me out every
five minutes; dark mode is gone; it drains the battery before lunch; search no longer finds
anything older than a week""")
L["service_problem"] = phrases("""one person on the desk and a queue out the door; half the
shelves were empty; the card machine was down again; they closed an hour early without
notice; nobody could find my booking""")

F["greeting"] = [
    "[Good morning|Morning|Hello|Hi|Hey] [everyone|all|team|folks|{name}][!|.] [Hope your "
    "{day} is off to a good start.|Coffee is on in the kitchen.|Back from {city} and catching up "
    "on messages.|Good to be back.]",
    "Welcome to the team, {name}! [Your desk is next to the window.|Lunch is on us on {day}.|"
    "We're very glad you're here.]",
    "Happy [new year|Friday|Diwali|Eid|Lunar New Year|Hanukkah|Easter|solstice|Nowruz|"
    "Thanksgiving], everyone[!|.|, and thanks for a great year.]",
    "Hello from {city}, where it's {time12} and I've just landed.",
    "Hi {name}, long time no see! [It was great bumping into you at the {town_place}.|Let's "
    "get lunch soon.]",
    "New agent online: {agentname}, running {modelname} on {host}, ready for tasks.",
    "Happy birthday, {name}! [There's cake in the [kitchen|break room|meeting room].|Have a "
    "wonderful day.|Enjoy the day "
    "off.]",
    "Evening all, {name} here, taking over the night shift from {name}.",
    "Hey neighbour, welcome to {street}! [We're at number {n2} if you need anything.|The bins "
    "go out on {day}s.]",
    "Good afternoon from the {teamname} crew in {city}.",
]

F["thanks"] = [
    "Thanks, {name}, for {favor}[; you saved my afternoon|. I owe you a coffee|!|, it made a "
    "real difference].",
    "Huge thanks to {who} for {favor} at such short notice.",
    "Thank you all for coming to {event}; we raised {money} for the {cause_charity}.",
    "Cheers for the {gift}, it's [perfect|exactly what I needed|already in use|a bit too "
    "generous, honestly].",
    "Much appreciated! The {doc} you sent cleared up [everything|most of my questions|the "
    "whole mess].",
    "A big thank you to the {role} who [found my wallet|fixed the leak on a {day}|stayed late to "
    "help|carried my shopping up the hill].",
    "Thanks for your patience while {svc} was down; credits have been added to affected accounts.",
]
L["favor"] = phrases("""covering my shift; proofreading the {doc}; lending me your {thing};
picking the kids up; fixing {svc} at midnight; the lift to the airport; walking the dog; the
homemade {dish}; taking the minutes; sorting out the booking""")
L["gift"] = phrases("""flowers; book token; homemade jam; [coffee|tea|cake] voucher; scarf; plant
cutting;
birthday card; lovely mug; hand-drawn map; jar of {ingredient}""")
L["cause_charity"] = phrases("""local food bank; hospice; animal shelter; school library;
mountain rescue team; community garden; youth football club; flood appeal; refugee centre""")

F["plan"] = [
    "Plan for [today|tomorrow|the weekend|{day}|next week]: {plan_step}, then {plan_step}, and "
    "{plan_step} if there's time.",
    "We're thinking of [a road trip|a week of hiking|a long weekend|a cycling holiday] in "
    "{country} in {month}; {name} will [sort the bookings|drive|plan the route|find somewhere "
    "to stay].",
    "Next sprint we'll focus on {feature} and finally paying down the tech debt in {module}.",
    "I'll [start|finish] the {doc} {when} and send it round for comments by {day}.",
    "Let's aim to {goal} by the end of {month}.",
    "Tomorrow: {activity} at {time12}, a {appointment} at {time12}, then [dinner with {who}|an "
    "early night|the {meeting}].",
    "The roadmap for next quarter: {feature}, {feature}, and a proper fix for {theme}.",
    "Weekend plan: clear out the {room}, plant the {plant}, and cook {dish} for {who}.",
    "If the forecast holds, we'll take the {long_transport} from {city_to} on {day} and come back "
    "on {day}.",
    "Step one is to {goal}; everything else can wait until {month}.",
]
L["plan_step"] = phrases("""answer emails; review the {doc}; call {name}; fix the flaky test;
go for a run; buy {shopping}; tidy the {room}; write up the notes from {event}; book the
{transport}; read {n1} chapters; clear the inbox; reply to {company}""")
L["goal"] = phrases("""cut the cloud bill by a fifth; ship {feature}; halve the support backlog;
run a half marathon; read twelve books; finish the kitchen; learn basic {language}; hire two
engineers; get the bridge error under {pct}; visit {relative} in {city}""")

F["news"] = [
    "The city council voted {votes} to [close|reopen|renovate|rename|expand] the "
    "{town_place} on {street}.",
    "{n3} volunteers [planted|cleaned up|repaired] [trees|benches|footpaths|bird boxes] along "
    "{river} on {day}.",
    "A {animal} was spotted [wandering|swimming|sleeping] near the {town_place} in {city} [this "
    "morning|on {day}], to the delight of [passers-by|local children|commuters].",
    "{city} bakery wins national prize for its {bread}",
    "Work on the new [tram line|bridge|cycle path|rail tunnel|ferry pier] in {city} will "
    "[start|finish] in {month} after {n1} years of delays.",
    "The [jazz|film|food|book|lantern|kite|folk music] festival returns to {city} this "
    "{season}, with {bignum} visitors expected.",
    "A museum in {city} has opened an exhibition of [{year} maps|medieval shoes|early "
    "computers|botanical drawings|protest posters|children's toys from the [1950s|1970s|1990s]].",
    "{company} [will cut|plans to create|is adding] {bignum} jobs at its {city} site.",
    "Schools in {region} will [close|open late] on {day} because of [a burst water main|"
    "{wx_event}|a teachers' training day|a power cut].",
    "A [{n3}|nine|fourteen|seventy]-year-old from {city} has [walked|cycled|rowed|run] "
    "{long_distance} to raise money for "
    "the {cause_charity}.",
    "Police in {city} are asking for help finding a [bronze statue|vintage bicycle|wedding "
    "dress|tortoise|garden gnome] taken from {street}.",
    "Overnight, the [river|canal|brook|old mill stream] burst its banks, flooding {n2} homes in "
    "{city}.",
    "The {town_place} in {city} will stay open until [9 pm|10 pm|midnight|late] during the "
    "{season} holidays.",
    "Residents of {street} have voted to turn their road into a play street every {day}.",
    "After {n2} years, the clock on the [town hall|train station|market hall|old post office] in "
    "{city} is finally telling the right time.",
]

F["review"] = [
    "[Honestly,|To be fair,|I have to say,|Not going to lie,] the {product} is {adj_prod}, but "
    "{prod_flaw}.",
    "{stars} stars for the {venue} on {street}: {venue_note}.",
    "I finished {title} [last night|on the plane|in one sitting]; {book_opinion}.",
    "I gave up on {title} halfway through; {book_giveup}.",
    "^{title} is [overrated|underrated|the best thing I've seen this year|two hours I will never "
    "get back|better than the book].",
    "In my opinion, {opinion}.",
    "Unpopular opinion: {opinion}.",
    "Would I [go back|buy it again|recommend it]? [Absolutely.|Probably not.|Only if it's on "
    "sale.|Yes, but book ahead.]",
    "The {venue} near the {town_place} has {venue_good} but {venue_bad}.",
    "After a month with the new {device}, {device_verdict}.",
    "The {cuisine} place that opened on {street} is {adj_place}; try the [house special|lunch "
    "set|soup of the day|"
    "flatbread|slow-cooked lamb|fried fish] and skip the "
    "[desserts|cocktails|bread].",
]
L["product"] = phrases("""new {device}; standing desk; electric bike; coffee grinder; garden
bench; pressure cooker; office chair; bread maker; kitchen scale; desk fan""")
L["adj_prod"] = phrases("""sturdy; light; quiet; quick; well made; good value; comfortable;
handy; reliable; elegant; clever; easy to clean; great to look at""")
L["prod_flaw"] = phrases("""the instructions are useless; the packaging was absurd; it arrived
with a scratch on the side; the colour is nothing like the photo; it costs twice what it should;
it is much heavier than it looks; the power cable is far too short""")
L["venue"] = phrases("""cafe; pub; noodle bar; bookshop; laundrette; bakery; pizzeria; tea
room; vintage shop; climbing gym; wine bar; ice cream parlour; bike cafe""")
L["venue_note"] = phrases("""the staff remembered my name; the portions are huge; it was
freezing inside; the music was far too loud; the cake is worth the queue; slow service but
great coffee; cash only, which is annoying; the window seats are perfect for reading""")
L["title"] = ["The {T_adj} {T_noun}", "A {T_noun} in {city}", "The {T_noun} of {name}",
              "{T_noun} and {T_noun}", "Last {T_noun} to {city}"]
L["T_adj"] = words("""Silent Last Hidden Glass Paper Iron Quiet Burning Secret Broken Golden
Northern Invisible Borrowed Salt Winter Velvet""")
L["T_noun"] = words("""Harbour Garden Orchard Lantern Archive Mountain Island Kingdom Cartographer
Apprentice Clockmaker Orchestra Lighthouse Ferryman Beekeeper Tides Embers Letters Strangers
Sisters""")
L["book_opinion"] = phrases("""the ending was rushed; the first fifty pages are slow but then
it flies; I cried on the bus; too many characters with similar names; the translation is
gorgeous; I have no idea why everyone loves it; I already want to read it again""")
L["book_giveup"] = phrases("""too many characters with similar names; nothing happens for
two hundred pages; I have no idea why everyone loves it; the narrator is unbearable""")
L["opinion"] = phrases("""tabs are better than spaces; breakfast is overrated; the best seat
on any train faces backwards; every kitchen needs a second bin; cold pizza beats warm pizza;
meetings should have a hard stop; paper maps are more fun than phones; November is the best
month for walking; small teams ship faster; pineapple on pizza is fine; you can never own too
many tea towels; audiobooks count as reading; a good bridge should be boring""")
L["venue_good"] = phrases("""great coffee; friendly staff; comfy chairs; fair prices; huge
portions; a lovely garden; the best cakes in town; a great view""")
L["venue_bad"] = phrases("""tiny tables; painfully slow service; terrible wifi; far too loud
music; only one toilet; very odd opening hours; no card machine""")
L["device_verdict"] = phrases("""the battery still lasts two days; I miss the old keyboard;
the camera is the only real upgrade; I can't go back; it feels like a sideways step; the
fan is louder than I expected""")

F["instruction"] = [
    "To reset the {device}, hold the [power|reset|home|volume] button for {n1} seconds until "
    "the light turns {color}.",
    "Before you leave, [switch off|unplug] the {appliance} and leave the key {hiding_spot}.",
    "{steps}",
    "Whisk the {bake_ing} with the {bake_ing}, then bake at {oven} for {cook_time}.",
    "Always {safety}.",
    "Never {safety_neg}.",
    "Run the migration first, then the backfill, and only then restart {svc}.",
    "If the fire alarm goes off, leave by the [back stairs|main entrance|side door] and meet "
    "at the {town_place}.",
    "Use [a spreadsheet|the shared calendar|the wiki|a paper checklist] for [the rota|the budget|"
    "the packing list|the inventory], not [a chat thread|email|sticky notes|your memory]; "
    "[it's simpler|everyone can find it|nothing gets lost].",
    "Don't forget to {reminder} before {when_by}.",
    "Turn left at the {town_place}, go past the {town_place}, and it's the "
    "[second|third|fourth|fifth|last] door on "
    "the right.",
    "Soak the {soak_ing} overnight, drain, then simmer with {ingredient} for {cook_time}.",
    "When the {device} shows error {n3}, unplug it, wait {n2} seconds, and plug it back in.",
    "For the report, keep each section under {n3} words and put the numbers in a table.",
    "Agents must reply within {n2} seconds or the broker will retry on another node.",
]
L["safety"] = phrases("""wear goggles when using the grinder; check the ladder is level before
climbing it; label the freezer bags with the date; keep one hand on the rail on the stairs;
test the smoke alarm on the first of the month; lock your screen when you walk away; sign
visitors in at reception""")
L["safety_neg"] = phrases("""put metal in the microwave; leave the {appliance} on overnight;
share your password, even with IT; run the dryer with the filter out; paste customer data into
a public chat; prop the fire door open""")

F["weather"] = [
    "It's {temp_cold} and [frosty|snowing|icy|bitterly cold] in {city} [right now|this morning]; "
    "[wrap up warm|the pipes might freeze|the ducks are standing on the pond].",
    "It's {temp_mild} and [overcast|drizzly|breezy|grey|foggy] in {city} at the moment; [bring a "
    "jacket|perfect for a walk|the cats refuse to go out].",
    "It's {temp_hot} and [humid|sticky|blazing|hazy] in {city} today; [the pavements are "
    "shimmering|everyone is hiding indoors|the ice cream van sold out by noon].",
    "^{wx_event} expected [tonight|on {day}|over the weekend] across {region}, with gusts up to "
    "{speed}.",
    "The forecast says {condition} all week, which is [great news for the garden|bad news for "
    "the barbecue|exactly what the farmers wanted].",
    "Woke up to {wx_event} and a {n1}-degree drop overnight; the {plant} did not enjoy it.",
    "It rained so hard on {day} that the [gutters|drains|car park|underpass] overflowed.",
    "First frost of the winter this morning, and the windscreen took {short_dur} to clear.",
    "Sunset over {landmark_near} was [orange and pink|blood red|almost purple] tonight.",
    "Hottest day of the year in {city} so far: {temp_hot} at {time12}, and the trams slowed down.",
    "Snow in {city} in {month}? Nobody saw that coming.",
]

F["sport"] = [
    "{club} beat {club} {win_score} [last night|on {day}|in the {sport_event}], with {name} "
    "scoring twice.",
    "I can't believe {name} missed that penalty in the {minute} minute.",
    "Our {sport} club is looking for {n1} more players for the {season} league; beginners "
    "welcome.",
    "{fullname} set a new club record in the [100 metres|400 metres freestyle|10,000 metres|"
    "half marathon|2,000 metre row|hill climb] on {day}.",
    "The [basketball final|netball semi-final|handball derby|volleyball decider] went to "
    "overtime and finished {big_score}; my voice is gone.",
    "Chess night at the {town_place}: {n2} boards, one clock short, and a lot of coffee.",
    "^{name} won the [singles|doubles|junior] title in {city} without dropping a set.",
    "Watching the {sport} final with my {relative}; [the tension is unbearable|we've already "
    "argued twice about the referee|snacks are running low].",
    "Training tonight moved to {time12} because the pitch is being [resurfaced|used for a "
    "concert|inspected].",
    "Six months of {activity} and I finally managed [5 kilometres|10 kilometres|a full hour|forty "
    "lengths|the whole loop] without stopping.",
]
L["sport_event"] = phrases("""final; derby; semi-final; relay; qualifier; friendly; season
opener; charity match; time trial; cup replay""")

F["business"] = [
    "{company} reported {metric} of {money_big} for the quarter, [up|down] {pct} on a year ago.",
    "The board of {company} approved a plan to open {n2} new [stores|depots|offices|clinics] "
    "in {country}.",
    "Our supplier raised prices by {pct}, so we need to revisit the {month} budget.",
    "Shares in {company} [jumped|slid|barely moved] after the chief executive [resigned|"
    "announced a merger|promised a buyback].",
    "We closed the deal with {company}: {deal_value} a year for {n1} years, starting in {month}.",
    "Small shops on {street} say footfall is down since the car park closed.",
    "The {venue} I like is [expanding to a second site|closing after {n2} years|being bought "
    "by a chain].",
    "Invoices from {company} now take {n2} days to clear, which is hurting our cash flow.",
    "Hiring update: {n1} offers out, [one|two|none] accepted so far, and we still need a {role}.",
    "Interest rates went up again, so the [mortgage|car loan|expansion plan] looks less "
    "attractive.",
]

F["science"] = [
    "Researchers in {city} {sci_work}.",
    "Fun fact: {sci_fact}.",
    "Did you know that {sci_fact}?",
    "Our lab finally reproduced the result: {sci_result}.",
    "The telescope team in {country} found [a comet|two new moons|a faint galaxy|a wobbling "
    "star] on images taken in {year}.",
    "A new study of {sci_obj} suggests {sci_claim}.",
    "The school science fair winner built {science_project}.",
    "Reading a paper on {sci_topic} tonight; the methods section alone is {n2} pages.",
]
L["sci_obj"] = phrases("""the genome of a rare orchid; ice cores from Greenland; bacteria in hot
springs; the migration of eels; microplastics in river mud; the chemistry of old pottery
glazes; birdsong dialects; soil fungi; deep-sea vents; fossil footprints; the orbit of a small
asteroid; coral spawning; the sleep of honeybees; tree ring records; whale song; volcanic ash
layers; the gut microbes of pandas; ancient pollen""")
L["sci_work"] = phrases("""sequenced the genome of a rare orchid; drilled ice cores on a
glacier; tracked eels across the ocean with tiny radio tags; mapped deep-sea vents with an
underwater robot; measured microplastics in river mud; recorded whale song with underwater
microphones; counted soil fungi using DNA barcodes; dated volcanic ash layers with a mass
spectrometer; followed honeybees with tiny tags glued to their backs; modelled the orbit of a
small asteroid on a supercomputer; filmed coral spawning with night-time drone surveys; read
the tree rings of a thousand-year-old oak""")
L["sci_fact"] = phrases("""octopuses have three hearts; light from the Sun takes about eight
minutes to reach us; a day on Venus is longer than its year; water expands when it freezes;
sound travels faster in water than in air; adults have 206 bones; bananas are slightly
radioactive; honeybees can recognise human faces; the Moon drifts about four centimetres further
away every year; a teaspoon of soil holds billions of microbes; sharks are older than trees;
glass is made mostly from sand; lightning is hotter than the surface of the Sun; hummingbirds
can fly backwards; tardigrades survive being dried out for years""")
L["sci_result"] = phrases("""the crystals only form below {n2} degrees; the enzyme works twice
as fast in the dark; the signal disappears when we shield the cable; the seedlings grow
straighter with music, which nobody believes""")
L["sci_claim"] = phrases("""it is older than anyone thought; it changed faster than expected;
warmer water makes it worse; it started in a single valley; the old model was wrong by a
factor of two""")
L["science_project"] = phrases("""a solar oven from a pizza box; a cloud chamber from a fish
tank; a seismometer out of a slinky; a battery made of lemons; a bird feeder that counts
visits""")

F["tech"] = [
    "Has anyone tried {tool} for [the inventory|scheduling|our notes|home automation]? I'm "
    "deciding between that and {tool}.",
    "Hot take: {tech_opinion}.",
    "The latest {device} update [drains the battery|fixed the bluetooth bug|moved all the "
    "settings around|finally added a dark theme].",
    "Spent {duration} debugging, and the problem was {bug_cause}.",
    "Switched the home {device} to a local server; no more cloud outages turning the lights off.",
    "The int4 latent for a {n2}-token message came to {n3} bytes on the wire.",
    "My {device} is {n1} years old and still fine, so I'm skipping this year's model.",
    "Note to self: {tech_note}.",
]
L["tech_opinion"] = phrases("""most dashboards are decoration; a good README beats a wiki;
fewer microservices would solve half our incidents; the best code review comment is a question;
every cron job should log when it starts and stops; boring technology is underrated""")
L["bug_cause"] = phrases("""a trailing space in the config; the wrong time zone; an off-by-one
in the pager; a cached DNS entry; two services using the same port; a file saved with Windows
line endings; an environment variable nobody had set""")
L["tech_note"] = phrases("""never name a branch test; the staging database is not a backup;
read the release notes before upgrading; keep a spare charger at the office; write down the
router password""")

F["food"] = [
    "{name} made {dish} with {ingredient} and {ingredient}, and [it was gone in ten minutes|the "
    "kids asked for seconds|nobody guessed the secret ingredient].",
    "The new {cuisine} place on {street} does {dish} for {price}; worth it [for the sauce alone|"
    "if you go early|even with the queue].",
    "Tip: {cooking_tip}.",
    "We ran out of {ingredient}, so tonight it's {dish} [again|with whatever is left in the "
    "fridge|from the freezer].",
    "Lunch today was {dish} and {drink} in the sun; [ten out of ten|no notes|exactly what I "
    "needed].",
    "I tried to bake {bake_dish} without a recipe and [it collapsed|it was surprisingly good|the "
    "smoke alarm disagreed].",
    "The market had {ingredient@m} at half price, so expect {ingredient@m} in everything this "
    "week.",
    "Is it wrong to have {dish} for breakfast? Asking for a friend.",
    "My {relative}'s {dish} is still the best I've ever had, and the recipe is a secret.",
]
L["cooking_tip"] = phrases("""salt the pasta water more than you think; toast the spices
before adding them; rest the dough for an hour; add a squeeze of lemon at the end; freeze
ginger and grate it straight from frozen; don't crowd the pan; keep the herb stalks for stock""")

F["travel"] = [
    "Our flight to {city} [leaves at|was moved to] {time24} from gate {gate}.",
    "The {long_transport} from {city_to} was {n2} minutes late, but the views over the "
    "[mountains|coast|lakes|vineyards] made up for it.",
    "If you visit {city}, skip the crowds and walk to the {landmark} at sunrise instead.",
    "Landed in {city}. Passport control took [forty minutes|an hour|ten minutes|{n2} minutes|no "
    "time at all], and the taxi queue was even longer.",
    "Packing list for {country}: {luggage}, {luggage}, {luggage} and a good pair of shoes.",
    "Lost my {luggage} somewhere between {city_and}; lesson learned.",
    "The hostel in {city} has a rooftop with a view of the {landmark} and terrible showers.",
    "Day {n1} in {country}: {n2} kilometres walked, {n1} blisters, zero regrets.",
    "Booked the [night train|coach|overnight bus|ferry] to {city} for {date}; it was {price} "
    "cheaper than flying.",
    "Border crossing into {country} took {short_dur}, mostly because of one lost passport.",
]

F["health"] = [
    "Day {n2} of the [couch to 5k|new stretching routine|no-sugar challenge|physio plan]: "
    "{activity} for {ex_dur}, and my {bodypart1} [is sore|feels better than last week|"
    "survived].",
    "The doctor says my {appointment} results are fine, but I should cut back on "
    "[coffee|salt|late nights|screen time].",
    "{name} has {illness}, so they'll be [off|working from home] until {day}.",
    "Reminder to drink water, stretch your {bodypart}, and look away from the screen every "
    "{n2} minutes.",
    "I booked a {appointment} for {date} at {time12}; wish me luck.",
    "Eight hours of sleep for the first time in weeks and I feel like a new person.",
    "The clinic on {street} now does walk-in {appointment}s on {day} mornings.",
    "Tried {activity} for the first time; my {bodypart} will never forgive me.",
    "Pollen count is high today, so my hay fever is [awful|back with a vengeance|winning].",
]

F["family"] = [
    "[My grandmother|My grandpa|Our neighbour|My great-aunt] turns [seventy|eighty|ninety|a "
    "hundred] on {day}, and we're planning {celebration}.",
    "[My son|My niece|Our youngest|My nephew|My daughter] turns [three|six|nine|twelve|sixteen] "
    "on {day}; we're planning {celebration}.",
    "Grandma finally learned to video call, and now she rings every evening at {time12}.",
    "The kids built a den out of [the clothes horse|two chairs|the ironing board|a bedsheet] and "
    "the sofa cushions, and refuse to come out.",
    "{name}'s first day at [school|nursery|university|the new job] went [well|better than "
    "expected|fine, apart from the lunch].",
    "Family dinner on {day}: {n2} people, one table, and {dish} for everyone.",
    "My {relative} sent a photo of the [dog|cat|rabbit] wearing a [jumper|hat|bow tie] again.",
    "We're [moving to|visiting the cousins in] {city} in {month}, and the {pet} is coming too.",
    "The baby said [dog|more|no|banana] today, which counts as a first word in this house.",
    "Tidied the {room} with my {relative} and found {n2} odd socks and a lost {thing}.",
    "Bedtime took {short_dur} tonight because of one missing toy rabbit.",
]

F["nature"] = [
    "A {garden_animal} [visited|crossed|sat on] the [garden|balcony|path|roof] this morning and "
    "stayed for {short_dur}.",
    "The {plant} are finally [flowering|fruiting|coming up|recovering after the frost].",
    "Counted {n2} kinds of birds on the walk along {river} today.",
    "Saw a {garden_animal} and a {garden_animal} on the same walk; best {day} in ages.",
    "The {plant} did not survive the slugs, but the {plant} are thriving.",
    "There's [a family of robins|a pair of swifts|a wasp colony|a blackbird|a wren|a "
    "hedgehog] nesting [under the shed|in the chimney|behind the {town_place}], so "
    "mind where you step.",
]

F["dialogue"] = [
    "{name@a}: {qa}",
    "\"{dline},\" said {name}[, {manner}|].",
    "\"{dq}\" asked {name}.",
    "\"{dq}\" ~{dwho} asked[, {manner}|].",
    "Me: {me_plan}. Also me, at {time12}: {me_reality}.",
    "{name}: [Running late|Be there in {n2} minutes|Stuck in traffic|Missed the {transport}], "
    "[sorry|save me a seat|start without me]!",
    "Mum: Did you eat? Me: Yes. Mum: What did you eat? Me: {dish}.",
    "\"We need to talk about the {obj},\" said {name}. \"It's been in the {room} for [three "
    "weeks|a month|"
    "two years|ages].\"",
    "{name@a} asked if the {doc} was ready, and {name@b} said [almost|not even close|it was "
    "sent yesterday].",
]
L["qa"] = phrases("""Did you lock the back door? {name@b}: I think so, let me check.; Where are
the car keys? {name@b}: On the hook by the door.; Who finished the milk? {name@b}: Not me,
honestly.; Is the {meeting} today or tomorrow? {name@b}: Tomorrow, at {time12}.; Have you seen
my {thing}? {name@b}: It's in the {room}.; Can we get {dish} tonight? {name@b}: Only if you're
paying.; What time is {name} arriving? {name@b}: Around {time12}, if the {transport} is on
time.; Is it going to rain later? {name@b}: No idea, ask {name}.; Did the plumber call back?
{name@b}: Yes, twice.; Which train are you on? {name@b}: The {time24}, carriage {n1}.; Are
you coming to {event}? {name@b}: Wouldn't miss it.; Who moved my {thing}? {name@b}: The {pet},
probably.; Shall I bring anything? {name@b}: Just yourself and maybe some {drink}.""")
L["dq"] = phrases("""Did you lock the back door?; Where are the car keys?; Who finished the
milk?; Is the {meeting} today or tomorrow?; Have you seen my {thing}?; Can we get {dish}
tonight?; What time is {name} arriving?; Is it going to rain later?; Did the plumber call back?;
Which train are you on?""")
L["dline"] = phrases("""I'm not moving the {obj} again; nobody makes {dish} like they do in {city};
we
should have left an hour ago; the {device} is making that noise again; nobody told me about
the {meeting}; I'll believe it when I see it; give me five more minutes""")
L["dwho"] = words("she he they")
L["manner"] = phrases("""without looking up; with a sigh; laughing; to nobody in particular;
from the other room; very slowly; half asleep; between mouthfuls""")
L["me_plan"] = phrases("""I'll go to bed early tonight; this week I'm eating healthy; I'll only
watch one episode; I'll reply to all my emails today; no more impulse buys""")
L["me_reality"] = phrases("""still awake and reading about volcanoes; ordering {dish}; on
episode six; ignoring {n2} unread messages; buying a second {device}""")

F["logistics"] = [
    "Invoice {order_id} for {money} is due on {date}.",
    "Meeting moved to {time12} in room {room_no}; the dial-in code is {code}.",
    "Flight {flight} to {city} departs {time24} from gate {gate}, boarding {n2} minutes earlier.",
    "Order {order_id} ({n1} items, {order_total}) ships on {day} and should arrive by {date}.",
    "Reminder: {appointment} with Dr {surname} on {date} at {time12}.",
    "Room {room_no} is booked from {span24} under the name {fullname}.",
    "Parcel {order_id} is waiting at the depot in {city}; pick it up before {time12}.",
    "We sold {tickets_sold}.",
    "The [coach|minibus|ferry|shuttle bus|school trip bus] leaves at {time24} on the dot, so meet "
    "at the {town_place} [ten|fifteen|"
    "twenty] minutes before.",
    "{fullname}, {role}, starts on {date}; desk {room_no}, laptop ordered.",
    "Budget check: {budget}, with {n1} weeks to go.",
    "The delivery window is {span12}; someone needs to be in.",
    "Ticket {ticket} was reopened at {time24} by {fullname}.",
    "Conference call with {city} at {time24} their time, which is {time24b} ours.",
]

F["misc"] = [
    "Congratulations to {name} on [the new job|passing the driving test|the baby|finishing the "
    "marathon|the promotion|ten years with us]!",
    "Sorry, {excuse}; I'll [make it up to you|be there next time|send the notes tonight].",
    "So sorry to hear about your {pet}; thinking of you all.",
    "Proverb of the day, made up by {name}: {saying}.",
    "{saying}, as my {relative} always says.",
    "{good_bad}",
    "Lost: one {thing}, last seen in the {room} on {day}. Reward: {dish}.",
    "Found a {luggage} on the {transport} this morning; it's at the {town_place} now.",
    "Joke of the day: {joke}",
    "Overheard at the {town_place}: \"^{dline}.\"",
    "Can't make it {when}; {excuse}.",
]
L["excuse"] = phrases("""the {transport} was cancelled; I double-booked myself; the {pet} is
unwell; my {relative} is visiting; I'm buried in the {doc}; I forgot it was {day}""")
L["saying"] = phrases("""a quiet kettle still boils; never trust a ladder you didn't check;
the second pancake is always better; you can't fold a fitted sheet in a hurry; every shortcut
has a toll; measure twice and still buy extra paint; a full inbox is nobody's fault and
everyone's problem; the map is not the hike""")
L["good_bad"] = phrases("""Good news: the heating is fixed. Bad news: it's stuck on thirty
degrees.; Good news: we got the grant. Bad news: it's half what we asked for.; Good news: the
{pet} came home. Bad news: it brought a friend.; Good news: the {long_transport} is running again.
Bad news: it's {n2} minutes late.; Good news: {svc} is back. Bad news: nobody knows why it
went down.; Good news: the printer works. Bad news: only in pink.""")
L["bake_dish"] = phrases("""banana bread; carrot cake; scones; brownies; a lemon tart; plum cake;
cornbread; sourdough; focaccia; a pumpkin pie; an apple crumble; cinnamon buns; a rye loaf""")
L["bake_ing"] = phrases("""eggs; sugar; butter; flour; yoghurt; oats; honey; vanilla; cream;
lemon zest; cinnamon; brown sugar; ground almonds; buttermilk""")
L["soak_ing"] = phrases("""chickpeas; butter beans; black beans; kidney beans; split peas;
barley; dried apricots; almonds""")
L["joke"] = phrases("""I told my {device} a joke, and it needed an update to get it.;
Why did the scarecrow get promoted? He was outstanding in his field.; I'm reading a book about
glue and I can't put it down.; The {role} quit because the job was a bit too draining.;
My calendar has more meetings than days this week.""")

F["combo"] = [
    "{short_a} {short_b}",
    "{short_a} {short_b}",
]
L["short_a"] = phrases("""Running about {n2} minutes late.; The coffee machine is fixed!;
The lift is out again.; Nice work on the demo.; Back online after the reboot.; Lunch has
arrived.; The parcel finally came.; Power cut on {street} again.; The heating is on at last.;
Just got off the {transport}.; The {town_place} is closed today.; Payroll went out early.;
Internet is down at home.; The {plant} are flowering.; Made it to {city}.; The {pet} ate my
{thing}.; Snow on the hills this morning.; The kids are finally asleep.""")
L["short_b"] = phrases("""More details after lunch.; I'll explain later.; Back to normal
tomorrow, hopefully.; Just so you know.; Nothing else to report.; Updates to follow.; Fingers
crossed it lasts.; Carry on.; Thought you'd want to know.; That's all from me.""")

F["story"] = [
    "Yesterday I took the {long_transport} to {city}, met {name} at the {landmark}, ate {dish} at "
    "a tiny {cuisine} place, and still made it home before {time12}.",
    "We spent the morning at the {town_place}, the afternoon fixing the {home_appliance}, and the "
    "evening arguing about whether {opinion}.",
    "The meeting ran long because {name} and {name} disagreed about {feature}; in the end we "
    "agreed to test both versions with {pct} of users and decide on {day}.",
    "Quick recap of {event}: {n3} people came, the {dish} ran out by {time12}, the speakers were "
    "[excellent|funny|inspiring|a bit long|brilliant|sharp|well prepared], and we raised {money} "
    "for the {cause_charity}.",
    "Note for whoever is on call tonight: {svc} is fragile after the upgrade, so if {symptom}, "
    "restart the workers first and only then page {name}.",
    "My {relative} called to say the {plant} survived the winter, the {pet} has learned to open "
    "the back door, and the neighbours finally fixed their fence.",
    "Weekly summary from the {agentrole} agent: {n3} tasks completed, {n2} handed to humans, "
    "{n1} failed on [timeouts|missing context|ambiguous instructions|rate limits], and the median "
    "reply took {n2} seconds.",
    "When I arrived in {city} it was {condition}, the hotel had lost my booking, and the only open "
    "restaurant served {dish}, which turned out to be the best meal of the trip.",
    "A customer wrote in to say {theme} has been a problem since {month}; I apologised, added a "
    "small credit to the account, and opened {ticket} for {team}.",
    "The {sound} outside my window started at {time12}, stopped for exactly {n1} minutes, and "
    "then carried on until lunch.",
    "I finally cleared out the {room}: {n2} bags for the charity shop, {n1} for the tip, and a "
    "{keepsake} I had forgotten we owned.",
    "Three things I learned this week: {fact_small}, {fact_small}, and never to trust the "
    "[phone|laptop|e-bike|camera|drone|headphone] battery indicator.",
    "Our {hobby} group meets every {day} at the {town_place}; last week {n2} people came, "
    "someone brought {dish}, and nobody wanted to leave.",
    "At the {town_place} this morning the queue was out the door, the {role} was on their own, "
    "and still everyone was remarkably patient.",
    "It took {name} two evenings, one borrowed {thing}, and a video tutorial to put the "
    "{furniture} together, and there are {n1} screws left over.",
]
L["sound"] = phrases("""drilling; church bells; a car alarm; someone practising the trumpet;
a leaf blower; a dog barking; the street sweeper; a brass band; roadworks; a flock of geese""")
L["keepsake"] = phrases("""box of old photos; wedding album; pair of roller skates; jar of
foreign coins; stack of postcards from {city}; broken cuckoo clock; school report from {year}""")
L["fact_small"] = phrases("""the good scissors live in the {room}; {name} is a brilliant
baker; the {town_place} closes early on {day}s; the {long_transport} is quicker than driving;
our {home_appliance} has a timer; oat milk froths better than I thought""")
L["hobby"] = phrases("""knitting; chess; choir; book; board game; sketching; running;
birdwatching; pottery; language exchange; repair; gardening; ukulele; photography""")
L["furniture"] = phrases("""wardrobe; bunk bed; bookcase; desk; garden bench; chest of drawers;
cot; dining table; shoe cabinet""")

F["observe"] = [
    "The {town_place} smells of {smell} every {day} morning, and I have never worked out why.",
    "Every {season} the {street} gets covered in {plant_litter}, and the children love it.",
    "Funny how the {town_place} is empty at {time12} but packed ten minutes later.",
    "There is always one {thing} missing from the {room}, and it is never the same one.",
    "The {tree} outside the office turns {autumn_colour} a week earlier than the others.",
    "Noticed that the buses on {street} now have {bus_feature}; small change, big difference.",
    "The light at {time12} in {month} makes even the car park look {adj_place}.",
    "People on the {long_transport} to {city} are either asleep or eating {snack}, never both.",
    "Our street has {n2} houses and at least {n2} different opinions about the bins.",
    "Whenever it snows, someone builds a {snow_thing} outside the {town_place}.",
]
L["smell"] = phrases("""fresh bread; cut grass; coffee; cinnamon; wet dogs; wood smoke;
floor polish; oranges; fried onions; old books""")
L["plant_litter"] = phrases("""cherry blossom; conkers; sycamore seeds; fallen leaves; pine
needles; lime tree sap""")
L["tree"] = phrases("""maple; oak; birch; cherry tree; chestnut; beech; ginkgo; rowan; plane
tree; willow""")
L["autumn_colour"] = phrases("""bright red; gold; copper; orange; rust brown""")
L["bus_feature"] = phrases("""phone chargers; bike racks; talking stop announcements; wider
doors; little screens with the next stops""")
L["snack"] = phrases("""crisps; oranges; sandwiches; boiled eggs; pastries; sunflower seeds;
chocolate""")
L["snow_thing"] = phrases("""snowman with a traffic cone hat; snow dragon; tiny igloo; snow
penguin; snow replica of the town hall""")

# A second sentence that some messages get (see generate()).
L["followup_ops"] = phrases("""I'll keep you posted.; No action needed from anyone.; Details are
in the usual place.; Ask {name} if you need the full story.; Will update this thread by
{time12}.; Call me if it gets worse.; Next update at {time24}.; Nobody panic.; Dashboards are
linked in the ticket.; Handing over to {name} at the end of my shift.""")
L["followup_life"] = phrases("""Photos to follow.; Anyway, that's my news.; Speak soon.; More
later.; Honestly, what a week.; I'm off to make a cup of [tea|coffee|cocoa|mint tea].; Wish
you were here.; Love to everyone.; Cheers, {name}.; Not complaining, just saying.""")
L["followup_news"] = phrases("""More details are expected on {day}.; Not sure what to make of
it yet.; Thoughts welcome.; Just thought you should know.; Sharing in case it affects
anyone here.; We'll see how long that lasts.""")
FOLLOWUPS = {"status": "ops", "incident": "ops",
             "news": "news", "business": "news", "science": "news",
             "travel": "life", "family": "life", "food": "life", "weather": "life",
             "health": "life", "sport": "life", "nature": "life", "review": "life"}

KINDS = [(w, k) for k, w in [
    ("status", 9), ("incident", 6), ("request", 7), ("question", 8), ("complaint", 6),
    ("greeting", 4), ("thanks", 4), ("plan", 5), ("news", 7), ("review", 6), ("instruction", 6),
    ("weather", 4), ("sport", 5), ("business", 5), ("science", 5), ("tech", 4), ("food", 5),
    ("travel", 5), ("health", 5), ("family", 5), ("nature", 3), ("dialogue", 5),
    ("logistics", 6), ("misc", 5), ("combo", 4), ("story", 7), ("observe", 3)]]


# ----------------------------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------------------------

def load_eval_texts():
    texts = []
    for path in sorted(glob.glob(EVAL_GLOB)):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    texts.append(json.loads(line)["text"])
    return texts


def generate(eval_texts, target=TARGET, seed=SEED):
    rng = Rng(seed)
    lex = dict(L)
    for k, frames in F.items():
        lex["frame_" + k] = frames
    g = Grammar(lex, rng)
    g.check()
    index = check_disjoint.EvalIndex(eval_texts)
    seen_norm = set()
    own = check_disjoint.EvalIndex([])   # grows with accepted lines: near-copy guard
    stats = {"candidates": 0, "length": 0, "duplicate": 0, "near_copy": 0, "eval_exact": 0,
             "eval_near": 0}
    out = []
    attempts = 0
    while len(out) < target:
        attempts += 1
        if attempts > target * 50:
            raise SystemExit("make_messages: grammar too small, stuck at %d lines" % len(out))
        kind = rng.weighted(KINDS)
        template = "{frame_%s}" % kind
        if kind in FOLLOWUPS and rng.chance(1, 5):
            template += " ^{followup_%s}" % FOLLOWUPS[kind]
        text = tidy(g.expand(template))
        stats["candidates"] += 1
        n = len(text.split())
        if n < MIN_WORDS or n > MAX_WORDS:
            stats["length"] += 1
            continue
        norm = check_disjoint.normalize(text)
        if norm in seen_norm:
            stats["duplicate"] += 1
            continue
        hit = index.overlap(text)
        if hit:
            stats["eval_" + hit[0]] += 1
            continue
        if own.overlap(text):
            stats["near_copy"] += 1
            continue
        seen_norm.add(norm)
        own.exact.setdefault(norm, len(own.texts))
        for gram in check_disjoint.ngrams(norm):
            own.grams.setdefault(gram, set()).add(len(own.texts))
        own.texts.append(text)
        out.append(text)
    rng.shuffle(out)
    return out, stats


def check_file(data, eval_texts):
    """Invariants of messages.txt on disk; returns a list of problems."""
    problems = []
    if not os.path.exists(OUT):
        return ["%s: missing" % OUT]
    with open(OUT, "rb") as f:
        disk = f.read()
    if disk != data.encode("ascii"):
        problems.append("%s: differs from a fresh build" % OUT)
    text = disk.decode("ascii", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != TARGET:
        problems.append("%s: %d lines, want %d" % (OUT, len(lines), TARGET))
    index = check_disjoint.EvalIndex(eval_texts)
    seen = set()
    for i, line in enumerate(lines, 1):
        n = len(line.split())
        if n < MIN_WORDS or n > MAX_WORDS:
            problems.append("%s:%d: %d words" % (OUT, i, n))
        if not line.isascii() or not line.isprintable():
            problems.append("%s:%d: not printable ASCII" % (OUT, i))
        norm = check_disjoint.normalize(line)
        if norm in seen:
            problems.append("%s:%d: duplicate" % (OUT, i))
        seen.add(norm)
        if index.overlap(line):
            problems.append("%s:%d: overlaps an evaluation text" % (OUT, i))
    return problems


def main(argv):
    to_stdout = "--stdout" in argv
    eval_texts = load_eval_texts()
    if not eval_texts:
        sys.stderr.write("make_messages: no evaluation texts found at %s\n" % EVAL_GLOB)
        return 1
    lines, st = generate(eval_texts)
    data = "".join(t + "\n" for t in lines)
    if "--check" in argv:
        problems = check_file(data, eval_texts)
        for p in problems[:50]:
            sys.stderr.write("make_messages: %s\n" % p)
        if problems:
            return 1
        print("make_messages: %d messages -- OK (byte-identical, %d..%d words, ASCII, unique, "
              "disjoint from the evaluation texts)" % (len(lines), MIN_WORDS, MAX_WORDS))
        return 0
    if to_stdout:
        sys.stdout.write(data)
    else:
        with open(OUT, "w", encoding="ascii", newline="\n") as f:
            f.write(data)
    nwords = [len(t.split()) for t in lines]
    sys.stderr.write(
        "make_messages: %d messages (%d..%d words, mean %.1f) from %d candidates; dropped: "
        "%d for overlap with the %d evaluation texts (%d exact, %d near), %d duplicates, "
        "%d near copies of an earlier message, %d outside %d..%d words; grammar only "
        "(no third-party text)\n"
        % (len(lines), min(nwords), max(nwords), sum(nwords) / len(nwords), st["candidates"],
           st["eval_exact"] + st["eval_near"], len(eval_texts), st["eval_exact"], st["eval_near"],
           st["duplicate"], st["near_copy"], st["length"], MIN_WORDS, MAX_WORDS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
