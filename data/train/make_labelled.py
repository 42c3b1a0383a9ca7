#!/usr/bin/env python3
"""Write data/train/labelled/{topic,sentiment,intent}.jsonl: a labelled TRAINING split for the
three classification tasks of data/classify (same format, same label order, disjoint texts).

  python3 data/train/make_labelled.py           # writes the three files
  python3 data/train/make_labelled.py --check   # exit 1 if the files differ from a fresh build
                                                # or break an invariant

The frames and word lists below were written for this split; they are not those of
data/classify/make_sets.py. A fixed seed drives a PCG32 generator (textgen.py), so the files are
the same byte for byte on every run. Candidates are dropped when they are outside 8..30 words,
contain a label word or stem, carry a cue word of another label (topic), break the intent
surface rules, repeat or nearly repeat an item already chosen for the task, or overlap an
evaluation text in data/classify/*.jsonl (rule in check_disjoint.py). Counts go to stderr.
Standard library only.
"""

import glob
import json
import os
import re
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import check_disjoint  # noqa: E402
from textgen import Grammar, Rng, phrases, tidy, words  # noqa: E402

SEED = 7340912
MIN_WORDS, MAX_WORDS = 8, 30
REPO = os.path.dirname(os.path.dirname(HERE))
EVAL_GLOB = os.path.join(REPO, "data", "classify", "*.jsonl")
OUT_DIR = os.path.join(HERE, "labelled")

TASKS = [
    # task, labels in the order of data/classify, items per label
    ("topic", ["sports", "business", "science", "weather"], 50),
    ("sentiment", ["positive", "negative"], 100),
    ("intent", ["question", "request", "complaint", "greeting"], 50),
]
# No text may contain any of these (case-insensitive substring), in any task.
BANNED = ["sports", "business", "science", "weather", "positive", "negative", "question",
          "request", "complaint", "greeting", "sport", "scien", "positiv", "negativ", "complain",
          "greet"]

# Topic cue words: a text of one topic may not contain a cue word of another topic, so every
# item belongs to one topic only. A cue matches a whole word, or a word plus "s"; a cue ending
# in "*" matches every word that starts with it.
CUES = {
    "sports": words("""match goal team season coach league cup scor* win won victory player*
        tournament champion* medal* stadium referee fan fans striker goalkeeper olympic athlet*
        race racing sprint* title semi-final* quarter-final* final penalt* squad captain club"""),
    "business": words("""share market* profit* revenue investor* compan* firm bank* price*
        job econom* inflation rate sales stock* deal retail* earning* executive* shopper*
        customer* export* import* startup* merger* factory factories worker* wage* salar* tax*
        budget* debt* loan* mortgage* rent currenc* brand* store* supermarket* airline*
        carmaker*"""),
    "science": words("""research* study studies species genom* telescope* astronom* physic*
        chemi* biolog* geolog* ecolog* lab laboratory fossil* molecul* cell experiment* planet*
        galax* particle* enzyme* gene dna protein* bacteri* microb* spacecraft probe orbit*
        asteroid* comet* neuron* sediment* specimen* isotope* quantum"""),
    "weather": words("""rain* snow* storm* wind windy forecast* sunny sunshine cloud* fog foggy
        frost* temperature* degree shower thunder* hail drizzl* heatwave* humid* icy umbrella*
        gust* breez* sleet mist misty murk* overcast downpour* muggy chilly cold colder coldest
        warm warmer hot hotter heat mild milder damp wet"""),
}


def cue_hit(token, cues):
    for c in cues:
        if c.endswith("*"):
            if token.startswith(c[:-1]):
                return True
        elif token == c or token == c + "s" or token == c + "es":
            return True
    return False


Q_WH = tuple(words("What When Where Which Who Whose Why How"))
Q_AUX = tuple(words("Is Are Does Do Did Has Have Was Will"))
POLITE = ("Would you mind", "Could you", "Can you")


# ----------------------------------------------------------------------------------------------
# Number slots
# ----------------------------------------------------------------------------------------------

def n_small(r):
    return r.choice(words("two three four five six seven eight nine ten"))


def n_mid(r):
    return str(r.randint(11, 95))


def n_big(r):
    return "{:,}".format(r.randint(2, 95) * r.choice([100, 1000]))


def pct(r):
    return r.choice(["%d percent" % r.randint(2, 40), "%d.%d percent" % (r.randint(0, 9),
                                                                        r.randint(1, 9))])


def money(r):
    return r.choice(["$%d million" % r.randint(3, 900), "%d million euros" % r.randint(3, 900)])


def money_big(r):
    return r.choice(["$%d million" % r.randint(100, 900), "$%d.%d billion" % (r.randint(1, 40),
                                                                            r.randint(1, 9))])


def pct_small(r):
    return "%d.%d percent" % (r.randint(0, 5), r.randint(1, 9))


def pct_jobless(r):
    return "%d.%d percent" % (r.randint(3, 11), r.randint(0, 9))


def run_len(r):
    return str(r.randint(8, 31))


def marathon_min(r):
    return str(r.randint(4, 59))


def dino_mya(r):
    return str(r.randint(68, 200))


def win_score(r):
    a = r.randint(1, 5)
    return "%d-%d" % (a, r.randint(0, a - 1))


def draw_score(r):
    a = r.randint(0, 4)
    return "%d-%d" % (a, a)


def rugby_score(r):
    a = r.randint(15, 40)
    return "%d-%d" % (a, a - r.randint(1, 12))


def temp_hot(r):
    return "%d degrees" % r.randint(29, 42)


def temp_cold(r):
    return "minus %d" % r.randint(2, 14)


def temp_mild(r):
    return "%d degrees" % r.randint(12, 22)


def kmh(r):
    return "%d kilometres an hour" % (r.randint(6, 14) * 10)


def metres(r):
    return "%d metres" % (r.randint(3, 18) * 100)


def future_year(r):
    return str(r.randint(2027, 2036))


def n_jobs(r):
    return "{:,}".format(r.choice([r.randint(120, 950), r.randint(1, 4) * 1000]))


def n_points(r):
    return str(r.randint(18, 46))


def mya(r):
    return str(r.choice([r.randint(2, 95), r.randint(100, 480)]))


def light_years(r):
    return "{:,}".format(r.choice([r.randint(4, 90), r.randint(100, 3000)]))


def clock(r):
    h = r.randint(6, 21)
    return "%d:%02d" % (h, r.choice([0, 10, 15, 20, 30, 40, 45, 50]))


# ----------------------------------------------------------------------------------------------
# Word lists
# ----------------------------------------------------------------------------------------------

L = {}
L["first"] = words("""Akosua Benedikt Catalina Desmond Eszter Farid Gwen Halima Idris Jolene
Kwame Lucinda Mehmet Nerea Osvaldo Pilar Radek Saoirse Tobias Ulla Valeriu Wendell Ximena Yoshiro
Zanele Anouk Bartek Cosima Dragan Elodie Fenna Gunnar Hiba Ilario Juno Kalani Leopold Marisol
Nkechi Oksana Piotr Renske Sakura Thandiwe Ugo Viveka Wiremu Yolanda Zdenek""")
L["last"] = words("""Achebe Bergstrom Carvalho Duarte Engel Fontaine Gutierrez Hakimi Iwasaki
Jovanovic Kipchoge Lindahl Mensah Nordin Oyelaran Paredes Quaresma Rasmussen Sabatini Tamura
Uribe Vasquez Wieczorek Xiong Yamamoto Zapata Brandt Castellanos Delacroix Eklund""")
L["fullname"] = ["{first} {last}"]
L["city"] = words("""Bratislava Porto Gothenburg Lyon Krakow Turin Bilbao Rotterdam Aarhus Tampere
Graz Malaga Antwerp Poznan Cluj Nantes Bergen Leipzig Cordoba Genoa Durban Mombasa Recife Perth
Calgary Quito Osaka Pune Izmir Hobart""")
L["country"] = phrases("""Kenya; Norway; Chile; Portugal; Vietnam; Ghana; Canada; Peru; Finland;
Morocco; Japan; Colombia; Poland; Ireland; New Zealand; Ethiopia; Uruguay; Croatia""")
L["region"] = phrases("""the northern hills; the coastal counties; the eastern plains; the
islands; the river valleys; the western uplands; the capital and its suburbs; the southern
lowlands; the lake district; the border region""")
L["day"] = words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
L["month"] = words("""January February March April May June July August September October
November December""")

for _fn in (money_big, pct_small, pct_jobless, run_len, marathon_min, dino_mya, future_year,
            n_jobs, n_points, n_small, n_mid, n_big, pct, money, win_score, draw_score,
            rugby_score, temp_hot, temp_cold, temp_mild, kmh, metres, mya, light_years, clock):
    L[_fn.__name__] = [_fn]

# --- sports ---
L["side"] = ["{city} [Rangers|Athletic|Borough|Dynamo|Albion|Olympic|Hornets|Stallions]",
             "the {city} [Rangers|Athletic|Borough|Dynamo|Albion|Olympic|Hornets|Stallions]"]
L["comp"] = phrases("""regional cup; national cup; continental cup; league cup; under-21 cup;
county cup""")
L["record"] = phrases("""sprinter {fullname} set a national record in the 100 metres;
swimmer {fullname} set a national record in the 200 metres breaststroke; hurdler {fullname} set
a national record in the 400 metres hurdles; pole vaulter {fullname} set a national record;
long jumper {fullname} set a national record with her final jump; distance runner {fullname}
set a national record over 10,000 metres; triple jumper {fullname} broke the national record;
rower {fullname} set a national record in the single sculls""")
L["event_name"] = phrases("""100 metres; 200 metres breaststroke; 400 metres hurdles; pole vault;
long jump; 1,500 metres; 10,000 metres; triple jump; individual medley; heptathlon""")
L["meet"] = phrases("""national championships; indoor grand prix; university games; European
trials; veterans' meet; junior championships""")

F_SPORTS = [
    "{fullname} [scored twice as {side} beat {side} [2-0|2-1|3-1|3-2]|struck a late winner as "
    "{side} beat {side} [1-0|2-1|3-2]|netted a hat-trick as {side} beat {side} [3-0|3-1|4-1|4-2]] "
    "in the {comp}.",
    "The {record} at the {meet} in {city}.",
    "{fullname} will miss the {comp} final after [tearing a hamstring|a knee operation|picking up "
    "a red card] in the semi.",
    "{side} came back from two goals down to draw {draw_score} with {side} in front of "
    "{n_big} supporters.",
    "{side} clinched the league title with {n_small} games to spare after a {win_score} home win.",
    "On the final climb {fullname} attacked and crossed the line {n_mid} seconds clear of the "
    "leading group.",
    "{fullname} lost the tennis [quarter-final|semi-final|final] in straight sets to the "
    "defending champion.",
    "Coach {last} praised the back four after a [third|fourth|fifth] clean sheet in a row.",
    "A late try from {fullname} gave {side} a {rugby_score} victory over {side}.",
    "{fullname} took gold in the {event_name}, and teammate {fullname} finished with bronze.",
    "The referee showed two red cards in the first half of a bad-tempered derby in {city}.",
    "{side} extended their unbeaten run to {run_len} matches with a {win_score} win away from "
    "home.",
    "The goalkeeper saved two penalties in the shoot-out to send {side} into the semi-finals.",
    "The batsman hit a century off {n_mid} balls to rescue his side on the opening day of the "
    "test.",
    "{fullname} scored {n_points} points and grabbed {n_small} rebounds as {side} won a fifth "
    "straight game.",
    "The boxer kept his belt with a unanimous points decision after twelve hard rounds in {city}.",
    "The national rowing eight finished fourth, half a second off the podium, in the "
    "championship final.",
    "{side} have appointed {fullname} as head coach until the end of the season.",
    "Record crowds watched the women's cup final, which {side} won {win_score} after extra time.",
    "The veteran midfielder announced she will hang up her boots after [twelve|fourteen|"
    "sixteen|eighteen] years and more than [300|400|500|600] appearances.",
    "{fullname} became the youngest player to reach the snooker final, at "
    "[sixteen|seventeen|eighteen].",
    "{side} were knocked out of the {comp} on penalties after a goalless hundred and twenty "
    "minutes.",
    "The relay quartet dropped the baton on the last changeover and missed out on a medal.",
    "A hat-trick of tries from the winger sealed a bonus-point victory for {side}.",
    "The marathon champion from {country} retained her title in {city} in two hours and "
    "{marathon_min} minutes.",
]

# --- business ---
L["corp"] = ["{corpname} [Holdings|Group|Industries|Partners|International|Works|& Co]"]
L["corpname"] = words("""Arcwell Boreal Castellan Dunmore Everline Fairhaven Granton Highmoor
Inchcape Jarrow Kelvedon Lowther Marbury Norland Ostrava Penhallow Quarrington Rosslyn
Sandmere Thornbury Uxbridge Valcourt Whitlock Yardley""")
L["goods"] = phrases("""coffee beans; electric cars; frozen fish; wine; furniture; copper;
solar panels; timber; cut flowers; cotton; medical devices; smartphones""")
L["product_b"] = phrases("""budget laptops; ready meals; electric scooters; hearing aids;
garden furniture; pet food; kitchen appliances; running shoes""")

F_BUSINESS = [
    "{corp} will cut {n_jobs} jobs as it closes [two factories|its call centres|a dozen stores] "
    "in {country}.",
    "Shares in {corp} [fell|jumped] {pct} after the firm [lowered|raised] its profit outlook "
    "for the year.",
    "The central bank [raised|held|cut] interest rates at its {month} meeting, citing [stubborn "
    "inflation|slowing growth|a weaker currency].",
    "{corp} agreed to buy {corp} for {money} in a deal that still needs approval from regulators.",
    "Retail sales [rose|fell] {pct_small} in {month} as shoppers [spent more on|cut back on] "
    "clothing "
    "and furniture.",
    "{corp} opened its first factory in {country}, creating {n_jobs} jobs over three years.",
    "Unemployment in {country} fell to {pct_jobless}, its lowest level in "
    "[ten|fifteen|twenty|thirty] years.",
    "The delivery startup raised {money} from investors to expand into {n_small} new cities.",
    "The chief executive of {corp} stepped down after {n_small} years, and the finance director "
    "will take over.",
    "Workers at the {corp} plant in {city} voted to strike over pay and pensions.",
    "The supermarket chain cut prices on {n_big} products to lure shoppers back from discounters.",
    "Mortgage lending [climbed|slumped] in {month} as banks [eased|tightened] their lending rules.",
    "{corp} posted record revenue of {money_big}, driven by strong demand for its {product_b}.",
    "Exports of {goods} from {country} jumped {pct} last year, helped by a cheaper currency.",
    "Inflation eased to {pct_small} in {month}, giving households some relief on food bills.",
    "Office landlords in {city} are cutting rents as firms shrink their floor space.",
    "{corp} recalled {n_big} of its {product_b} and set aside {money} to cover refunds.",
    "The bakery chain is looking for investors to fund {n_mid} new shops across {country}.",
    "The stock exchange in {city} suspended trading in {corp} pending an announcement.",
    "Small firms in {country} say higher energy bills have wiped out their margins this year.",
    "{corp} signed a supply contract worth {money} with a carmaker in {country}.",
    "The pension fund sold its stake in {corp}, sending the stock down {pct}.",
    "Consumer confidence in {country} dropped for a [third|fourth] month in a row in {month}.",
    "The airline plans to sell its regional routes to raise cash and pay down debt.",
    "After two years of losses, {corp} returned to profit thanks to lower costs and higher prices.",
]

# --- science ---
L["body"] = phrases("""Mars; Jupiter's moon Europa; Saturn's rings; the far side of the Moon;
a nearby comet; the asteroid belt; Venus; Neptune""")
L["taxon"] = phrases("""frog; orchid; beetle; gecko; freshwater crab; bat; moss; deep-sea fish;
jumping spider; tree snail""")
L["habitat_place"] = phrases("""in the cloud forests of Peru; in limestone caves in Vietnam; in
mangrove swamps in Ghana; in mountain streams in Colombia; on coral reefs off Kenya; in peat bogs
in Finland; on a remote island off New Zealand""")
L["swimmer"] = phrases("""octopus; eel; manta ray; penguin; jellyfish; sea turtle; seahorse""")
L["trait"] = phrases("""left-handedness; perfect pitch; being an early riser; a fear of heights;
a sweet tooth""")
L["material"] = phrases("""a gel; a thin film; a ceramic; a polymer; a metal foam; a coating""")
L["function"] = phrases("""heal its own cracks; pull water from dry air; conduct electricity like a
metal;
block sound almost completely; bend light around small objects; break down in seawater""")
L["creature"] = phrases("""octopus; honeybee; zebrafish; fruit fly; axolotl; naked mole-rat;
tardigrade; sea urchin""")

F_SCIENCE = [
    "Astronomers detected a planet roughly the size of Earth orbiting a red dwarf {light_years} "
    "light-years away.",
    "A new species of {taxon} was described from specimens collected {habitat_place}.",
    "Physicists measured the mass of the electron's heavier cousin with record precision.",
    "Chemists made {material} that can {function}, according to a paper out this week.",
    "Researchers sequenced the genome of the {creature} and found genes linked to its long "
    "lifespan.",
    "The orbiter sent back detailed images of {body}, showing features never seen before.",
    "A fossil skeleton unearthed in {country} suggests feathered dinosaurs lived there "
    "{dino_mya} million years ago.",
    "Geologists dated the oldest volcanic rock on the island to about {mya} million years.",
    "In lab tests, a newly found enzyme broke down plastic bottles within {n_small} days.",
    "Ecologists counted {n_mid} species of wild bee in the restored meadow, twice as many as "
    "before.",
    "A study of {n_big} twins found that {trait} is strongly inherited.",
    "Biologists showed that the {creature} can regrow damaged nerve cells within weeks.",
    "The space agency confirmed its probe will reach {body} in {future_year}.",
    "Researchers in {city} grew tiny clusters of human heart cells that beat on their own.",
    "Marine biologists tagged {n_mid} sharks to learn where they give birth.",
    "Engineers at the university in {city} built a robot that swims like a {swimmer}.",
    "Analysis of ancient DNA shows that dogs were living alongside farmers in {country} "
    "{n_small} thousand years ago.",
    "The particle accelerator restarted after a two-year upgrade and will collide protons "
    "at higher energy.",
    "Microbiologists found bacteria living deep inside rock that survive without any oxygen.",
    "A comet discovered by an amateur astronomer in {country} will be visible through "
    "binoculars next month.",
    "Chemists in {city} turned carbon dioxide into a fuel using a catalyst made of copper.",
    "A study of {n_big} blood samples linked a single gene variant to faster healing.",
    "The telescope captured light from a galaxy that formed less than a billion years after "
    "the Big Bang.",
    "Researchers trained mice to press a lever for a reward and recorded which neurons fired.",
    "The new species of {taxon} is smaller than a fingernail and glows under ultraviolet light.",
]

# --- weather ---
L["wx_area"] = ["{region}", "{city} and the surrounding area", "the whole country",
                "coastal areas", "high ground", "the south of the country"]
L["direction"] = words("north south east west")

F_WEATHER = [
    "Heavy rain will spread across {wx_area} on {day}, with [flooding possible on low roads|"
    "more than a month's worth falling in a day].",
    "Expect a grey and drizzly morning, but skies should clear by mid-afternoon.",
    "Temperatures will climb to {temp_hot} in {city} on {day}, so stay in the shade if you can.",
    "A yellow warning for [strong winds|heavy snow|thunderstorms|dense fog] is in place for "
    "{wx_area} until {day} evening.",
    "Overnight lows of {temp_cold} mean a hard frost on cars and pavements by dawn.",
    "The showers will die out this evening, leaving a clear and chilly night.",
    "Gusts of up to {kmh} are possible along the coast tomorrow afternoon.",
    "The heatwave should finally break on {day} as cooler air arrives from the {direction}.",
    "Fog will be slow to lift in the valleys this morning, so allow extra time on the roads.",
    "It will stay dry but cloudy for most of the week, with only light winds.",
    "Heavy snow is expected above {metres}, and several mountain passes may close.",
    "After a wet start, the weekend looks bright with highs around {temp_mild}.",
    "Thunder and hail are possible late on {day} as humid air meets a cold front.",
    "Sunshine and scattered clouds tomorrow, with a light breeze from the {direction}.",
    "Tonight will be the coldest of the winter so far, falling to {temp_cold} in rural spots.",
    "A band of sleet and snow will move in from the {direction} during the early hours.",
    "The outlook for {month} is milder than usual, with fewer frosty nights than last year.",
    "Drizzle and low cloud will hang around {wx_area} until lunchtime before brightening up.",
    "Strong sunshine will push the UV index to very high tomorrow, so wear sunscreen.",
    "It's going to be a muggy, sticky night in {city}, and nowhere will drop below "
    "{temp_mild}.",
    "Freezing rain could turn roads to glass in {wx_area} early on {day}.",
    "A week of sunshine is on the way after the storm clears out on {day}.",
    "Snow showers will turn to rain by the afternoon as milder air pushes in from the "
    "{direction}.",
    "Mist and murk this morning will give way to a bright, breezy afternoon.",
    "Rainfall totals in {wx_area} have already passed the monthly average, and more "
    "downpours are due.",
]

# --- sentiment ---
# kind -> (praises, criticisms); each an independent clause about that kind of thing.
KINDS = {
    "ferry crossing": (
        "the crew were cheerful and the cabins were spotless",
        "the cabins were filthy and the crossing ran two hours late",
        "we glided over flat water and watched dolphins from the deck",
        "the cafe ran out of food and the lounge seats were broken"),
    "dentist": (
        "the filling was quick and completely painless",
        "I waited ninety minutes and was then rushed through in five",
        "the hygienist explained everything and was very gentle",
        "they charged me for a treatment I never had"),
    "podcast": (
        "every episode is sharp, funny and well researched",
        "the hosts talk over each other and the audio crackles",
        "the interviews are thoughtful and never drag",
        "each episode is forty minutes of adverts and rambling"),
    "board game": (
        "the rules are simple and every round ends in laughter",
        "the rulebook is baffling and half the pieces were missing",
        "it works just as well with two players as with six",
        "a single game drags on for three tedious hours"),
    "pair of running shoes": (
        "they are light, springy and kind to my knees",
        "the soles split open after barely a month",
        "they felt comfortable straight out of the box",
        "they gave me blisters on the very first run"),
    "theatre play": (
        "the cast were superb and the second act had me in tears",
        "the acting was wooden and the plot made no sense",
        "the staging was clever and the songs were unforgettable",
        "half the audience left at the interval"),
    "campsite": (
        "the pitches were level and the showers were always hot",
        "the toilets were disgusting and the music went on all night",
        "the owners were welcoming and the views were stunning",
        "our pitch was a swamp and nobody would move us"),
    "coffee machine": (
        "it makes a rich, creamy espresso in under a minute",
        "it leaks all over the counter and the milk frother died",
        "it is easy to clean and quiet in the morning",
        "it broke on day three and the repair took a month"),
    "cooking class": (
        "the chef was patient and we went home with great recipes",
        "the teacher ignored us and the ingredients were stale",
        "everyone cooked a three-course meal and it was delicious",
        "it was disorganised and we mostly watched others cook"),
    "language app": (
        "the lessons are short, fun and actually stick",
        "it crashes constantly and the translations are wrong",
        "I can finally hold a simple conversation after two months",
        "it keeps nagging me to pay and locks basic lessons"),
    "wedding venue": (
        "the staff made the whole day effortless and the food was divine",
        "the manager double-booked the hall and blamed us",
        "the gardens were beautiful and every guest was impressed",
        "the food arrived cold and the bar closed early"),
    "plumber": (
        "he arrived on time, fixed the leak and tidied up",
        "he turned up late, made the leak worse and overcharged us",
        "she explained the problem clearly and charged a fair price",
        "he never came back to finish the job"),
    "taxi ride": (
        "the driver was friendly and the car was spotless",
        "the driver was rude and took a ridiculously long route",
        "we got to the station with time to spare",
        "the meter was rigged and the seat belts did not work"),
    "yoga class": (
        "the instructor was warm and I left feeling wonderful",
        "the room was overcrowded and the teacher barely noticed us",
        "the pace was perfect for beginners like me",
        "the class started late and ended early"),
    "escape room": (
        "the puzzles were ingenious and the hour flew by",
        "the props were broken and the clues made no sense",
        "the game host was brilliant and kept the tension high",
        "we were locked in with a faulty door for twenty minutes"),
    "video game": (
        "the world is gorgeous and the story kept me hooked",
        "it is riddled with bugs and crashes every hour",
        "the controls feel smooth and the soundtrack is lovely",
        "it is a lazy copy of last year's game at full price"),
    "bakery": (
        "the croissants are flaky and still warm at seven",
        "the bread was stale and the staff were surly",
        "the cinnamon buns are the best in town",
        "I found a hair in my sandwich and they shrugged"),
    "mattress": (
        "I sleep through the night and wake up without back pain",
        "it sagged within weeks and now my back aches every morning",
        "it is firm, cool and worth every penny",
        "it smelled of chemicals for a month"),
    "removal company": (
        "the team packed everything carefully and nothing broke",
        "they smashed two mirrors and arrived five hours late",
        "they were quick, polite and careful with the piano",
        "they lost a box of books and refused to pay"),
    "zoo visit": (
        "the enclosures were spacious and the keepers' talks were fascinating",
        "the enclosures were tiny and the animals looked miserable",
        "the children loved the feeding session",
        "half the animals were hidden and the cafe was a rip-off"),
    "kayak tour": (
        "the guide was brilliant and we paddled past seals",
        "the kayaks leaked and the guide vanished halfway",
        "the route was calm, scenic and well planned",
        "the equipment was worn out and nobody gave us a safety talk"),
    "TV series": (
        "the writing is clever and the final episode is perfect",
        "the plot falls apart and the ending is an insult",
        "the acting is superb from the first scene to the last",
        "every episode is slower and sillier than the last"),
    "bike repair shop": (
        "they fixed my gears the same day for a fair price",
        "they kept my bike for three weeks and still got it wrong",
        "the mechanic showed me how to adjust the brakes myself",
        "they scratched the frame and charged for parts they never fitted"),
    "spa day": (
        "the massage was heavenly and the pools were spotless",
        "the pools were murky and the massage was rushed",
        "I came home more relaxed than I have felt in years",
        "the changing rooms were dirty and the towels smelled"),
}

F_POSITIVE = [
    "The {K} was an absolute joy: {P}.",
    "I would pick the same {K} again without a second thought, because {P}.",
    "Really pleased with the {K}, especially since {P}.",
    "What a lovely surprise the {K} turned out to be, as {P}.",
    "Cannot recommend the {K} enough: {P}.",
    "Ten out of ten for the {K}; {P}.",
    "The {K} beat all my expectations, and {P}.",
    "So glad we chose that {K}, since {P}.",
    "Honestly delighted with the {K}: {P}.",
    "The {K} was wonderful from start to finish, and {P}.",
]
F_NEGATIVE = [
    "Never again with that {K}: {C}.",
    "The {K} was a real letdown, because {C}.",
    "Deeply unhappy with the {K}; {C}.",
    "I regret choosing that {K}, as {C}.",
    "Save yourself the money and skip the {K}: {C}.",
    "Zero stars if I could for the {K}; {C}.",
    "The {K} was a disaster from start to finish, and {C}.",
    "The {K} was poor value, since {C}.",
    "Thoroughly fed up with the {K}: {C}.",
    "Avoid the {K} at all costs, because {C}.",
]
F_POSITIVE_LIFE = [
    "Best day in ages: {good_event}!",
    "Such happy news this morning: {good_event}.",
    "I am over the moon, because {good_event}.",
]
F_NEGATIVE_LIFE = [
    "What an awful day: {bad_event}.",
    "Feeling thoroughly miserable, because {bad_event}.",
    "Terrible news this morning: {bad_event}.",
]
L["good_event"] = phrases("""my sister passed her driving test first time; the kitchen
renovation finished on schedule; we got the keys to our first flat; the surgery went
perfectly; my old friend surprised me with a visit; our garden won the street prize; the
puppy slept through the whole night; I finished my first half marathon""")
L["bad_event"] = phrases("""the car broke down on the motorway; my laptop died with the whole
project on it; the flat flooded while we were away; our holiday was cancelled at the airport;
somebody stole my bike from outside the library; the dog ate the birthday cake; I missed the
last train and slept at the station; the roof started leaking again""")

# --- intent ---
L["place"] = phrases("""swimming pool; post office; town library; recycling centre; passport
office; farmers' market; dental practice; museum of transport; ice rink; botanical gardens;
council office; bike hire kiosk""")
L["shop_item"] = phrases("""hardware shop on {street} sell replacement bulbs for desk lamps;
health food store on {street} sell gluten-free bread; stationer's on {street} sell spare printer
cartridges; bike shop on {street} sell children's helmets; pet shop on {street} sell hay for
rabbits; chemist on {street} sell travel-size sunscreen""")
L["event"] = phrases("""charity fun run; staff quiz night; summer picnic; pottery workshop;
neighbourhood clean-up; open mic night; first aid course; book swap""")
L["project"] = phrases("""website redesign; office move; school trip; grant bid; warehouse audit;
spring fair; newsletter""")
L["thing"] = phrases("""lift; printer on the second floor; card reader at the entrance; garage
door; hot water in the staff kitchen; projector in the big room; barrier at the car park""")
L["doc"] = phrases("""minutes; floor plan; seating chart; volunteer rota; budget sheet;
signed lease; risk assessment""")
L["shop"] = phrases("""hardware shop; health food store; stationer's; bike shop; pet shop;
chemist""")
L["street"] = ["{streetname} [Street|Road|Lane|Avenue|Row|Hill]"]
L["streetname"] = words("""Alder Bramble Cobble Dovecote Eastgate Farrier Glebe Hazel Ironmonger
Jubilee Kingfisher Larch Millpond Nightjar Oxbow Pilgrim Rampart Saltmarsh Tanner Vicarage""")
L["action"] = phrases("""lock up the office; send the updated invoice to the printers; water
the plants on the balcony; drop the spare keys at reception; book a table for six; collect the
kids from swimming; print the boarding passes; forward me the signed form; call the garage
about the car; put the bins out; pick up the cake from the bakery; check the spelling on the
poster; return the library books; feed the cat; switch off the lights in the hall; bring the
folding chairs in from the shed; move the meeting to the big room; sign the birthday card on my
desk; reserve two seats on the early train; tidy the storeroom""")
L["action_ing"] = phrases("""locking up the office; sending the updated invoice to the printers;
watering the plants on the balcony; dropping the spare keys at reception; collecting the kids
from swimming; printing the boarding passes; calling the garage about the car; putting the bins
out; picking up the cake from the bakery; checking the spelling on the poster; returning my
library books; feeding the cat; bringing the folding chairs in""")
L["holiday"] = phrases("""new year; Diwali; Eid; Lunar New Year; Hanukkah; midsummer; Easter;
Thanksgiving; Nowruz; Christmas""")
L["crew"] = phrases("""planning; logistics; finance; design; kitchen; front desk; research;
volunteer""")

F_QUESTION = [
    "What are the opening hours of the {place} on {day}s?",
    "How much does a monthly pass for the city buses cost these days?",
    "Which platform does the {clock} train to {city} leave from?",
    "Is there anywhere to park near the {place}, or is it better to take the bus?",
    "When is the deadline for applying to the {event}?",
    "Who is in charge of the {project} while {first} is on leave?",
    "Does the {shop_item}?",
    "How many people have signed up for the {event} so far?",
    "Where can I find the {doc} from last week's meeting?",
    "Did anyone ever find out why the {thing} stopped working?",
    "What is the wifi password for the upstairs meeting room?",
    "Has the parcel from the {shop} been sent out yet?",
    "Are dogs allowed inside the {place}?",
    "How long does it take to walk from the {place} to the {place}?",
    "Is the [museum of transport|botanical gardens|castle grounds|sculpture park|old "
    "observatory] free to visit on {day}s?",
    "Which of the two offices is closer to the station?",
    "Was the {event} moved to {day}, or is it still on the original date?",
    "How do I get from the airport in {city} to the old town without a car?",
    "Will the {place} be open during the holidays?",
    "Why does the [printer on the second floor|card reader at the entrance|fire door upstairs|"
    "fridge in the staff kitchen|barrier at the car park] beep every time someone walks past?",
    "What did {first} decide about the {project}?",
    "Do you know if the {shop} takes card payments?",
]
F_REQUEST = [
    "Please {action} before {clock}.",
    "Kindly {action} by {day}.",
    "Would you mind {action_ing}?",
    "Could you {action}, please?",
    "I need you to {action} this afternoon.",
    "Can you {action} when you have a moment?",
    "Make sure you {action} before the end of the day.",
    "Remember to {action} tomorrow morning.",
    "It would help me a lot if you could {action} today.",
    "{first}, please {action} as soon as you can.",
    "When you get a chance, {action}.",
    "Do me a favour and {action}.",
]
L["wait"] = phrases("""three weeks; two months; nearly a month; six weeks""")
L["utility"] = phrases("""broadband; hot water; heating; phone line; electricity""")
L["app"] = phrases("""banking app; parking app; train booking site; gym's booking app;
streaming service; clinic's booking system""")
L["purchase"] = phrases("""washing machine; sofa; bicycle; laptop; tumble dryer; set of
headphones""")
F_COMPLAINT = [
    "I have waited {wait} for someone to repair the {thing}, and nobody has even called back.",
    "The {utility} has cut out every evening this week, which is ridiculous for what we pay.",
    "For the third time this month my parcel was left in the rain outside the front door.",
    "It is infuriating that the {app} logs me out every time I switch screens.",
    "We sat ignored for forty minutes, and then the waiter brought the wrong order.",
    "Our street has had no working lamps for a month, and the council keeps ignoring our emails.",
    "The new {purchase} broke after two days, and the shop refuses to take it back.",
    "This is the third time the {purchase} has been delivered damaged.",
    "I am really annoyed that the {event} was called off at the last minute without a word.",
    "The queue at the {place} was absurd, and only one counter was open.",
    "Nobody at the [passport office|council office|post office] could tell me where my form went, "
    "and I have now lost my appointment.",
    "The [energy|broadband|water|phone] company has billed me twice this month and keeps blaming "
    "me for it.",
    "I was promised a call back within a day, and it has now been {wait}.",
    "The builders next door start drilling at seven every morning, even on {day}s.",
    "The {app} charged my card for a booking that never went through.",
    "My {purchase} arrived scratched, and customer service just keep sending template replies.",
    "The trains on this line are late so often that I have stopped trusting the timetable.",
    "The {purchase} I ordered in {month} still has not arrived, and the tracking page has not "
    "changed for {wait}.",
    "I am sick of the {app} crashing every time I try to pay.",
    "The {place} closed early again today, and the sign on the door gave no reason.",
    "Every time I ring the [energy|broadband|water|phone] company's helpline I get cut off "
    "after [ten|twenty|forty] minutes on hold.",
    "The shop on {street} sold me a faulty {purchase} and will not give me a refund.",
    "Our landlord has ignored the damp in the bedroom since {month}, and the mould keeps "
    "spreading.",
    "The cleaners skipped our floor for the [second|third|fourth] week running, and the bins "
    "are overflowing.",
    "My train was cancelled at {clock}, and the replacement bus never turned up.",
    "The music from the bar on {street} went on until three in the morning, again.",
    "I am disappointed with the {place}: the staff were rude and the toilets were locked.",
    "The {app} changed its prices overnight without telling anyone, and I was overcharged.",
    "{first} promised to fix the {thing} {wait} ago, and it still does not work.",
    "The repair on my {purchase} took {wait}, and it broke again the very next day.",
    "Nobody told us the {place} would be shut on {day}, so we drove across town for nothing.",
]
F_GREETING = [
    "Hello from the {crew} team in {city}!",
    "Welcome aboard, {first}; we are delighted you have joined us.",
    "Wishing you and everyone at home a very happy new year!",
    "Good evening, everyone, and a warm welcome to our newest members.",
    "Hi all, {first} here, just saying hello before the {event}.",
    "Happy {holiday} to everyone celebrating this week!",
    "Morning, neighbours! Lovely to see so many new faces on {street}.",
    "Welcome back, {first}! The office has not been the same without you.",
    "Hey {first}, how lovely to hear from you after all these years!",
    "Hello and welcome to the first issue of the {event} newsletter.",
    "Good morning from sunny {city}, everyone!",
    "Hi {first} and {first}, welcome to the neighbourhood!",
    "A very happy birthday to {first} from all of us in the {crew} team!",
    "Warm wishes and a happy {holiday} from the {crew} team.",
    "Good afternoon, {first}, and welcome to your first day with the {crew} team.",
    "Hello, {street}! The new family at number {n_mid} says hi to everyone.",
    "Hi everyone, a quick hello from {first} at the {place}.",
    "Welcome to {city}, {first} and {first}; we hope you settle in quickly.",
    "Hello there, {first}! It has been far too long.",
    "A big hello to all the new volunteers joining the {event} this year!",
    "Welcome, everyone, to the {event}; it is wonderful to see you all here.",
    "Happy {day}, {crew} team, and hello from your new colleague {first}!",
    "Evening, all! {first} and I have just arrived in {city} and wanted to say hi.",
    "Hi {first}, lovely to meet you at the {event} last night, and welcome to the club!",
]


# ----------------------------------------------------------------------------------------------
# Generation and checks
# ----------------------------------------------------------------------------------------------

def load_eval():
    texts = []
    per_file = {}
    for path in sorted(glob.glob(EVAL_GLOB)):
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        per_file[os.path.splitext(os.path.basename(path))[0]] = rows
        texts.extend(r["text"] for r in rows)
    return texts, per_file


def sentiment_frames():
    """Expand the sentiment frames: {K}, {P} and {C} come from one kind of thing."""
    pos, neg = [], []
    for kind in sorted(KINDS):
        good = [c for i, c in enumerate(KINDS[kind]) if i % 2 == 0]
        bad = [c for i, c in enumerate(KINDS[kind]) if i % 2 == 1]
        for f in F_POSITIVE:
            for p in good:
                pos.append(f.replace("{K}", kind).replace("{P}", p))
        for f in F_NEGATIVE:
            for c in bad:
                neg.append(f.replace("{K}", kind).replace("{C}", c))
    return pos, neg


def tokens(text):
    return re.findall(r"[a-z][a-z'-]*", text.lower())


def violations(task, label, text):
    """Return a reason string if `text` breaks a rule for (task, label), else None."""
    n = len(text.split())
    if n < MIN_WORDS or n > MAX_WORDS:
        return "length"
    if not text.isascii() or not text.isprintable():
        return "ascii"
    low = text.lower()
    for b in BANNED:
        if b in low:
            return "label word"
    if task == "topic":
        toks = tokens(text)
        for other, cues in CUES.items():
            if other == label:
                continue
            for t in toks:
                if cue_hit(t, cues):
                    return "cue of %s (%s)" % (other, t)
    if task == "intent":
        if label == "question":
            if (not text.endswith("?") or not text.startswith(Q_WH + Q_AUX)
                    or text.startswith(POLITE) or "please" in low):
                return "question form"
        elif label == "request":
            if text.startswith(Q_WH):
                return "request form"
            if "?" in text and not text.startswith(POLITE):
                return "request form"
        else:
            if "?" in text or "please" in low or "could you" in low or "kindly" in low:
                return "%s form" % label
    return None


def build(eval_texts):
    rng = Rng(SEED)
    g = Grammar(L, rng)
    pos, neg = sentiment_frames()
    frames = {
        ("topic", "sports"): F_SPORTS,
        ("topic", "business"): F_BUSINESS,
        ("topic", "science"): F_SCIENCE,
        ("topic", "weather"): F_WEATHER,
        ("sentiment", "positive"): pos + F_POSITIVE_LIFE * 8,
        ("sentiment", "negative"): neg + F_NEGATIVE_LIFE * 8,
        ("intent", "question"): F_QUESTION,
        ("intent", "request"): F_REQUEST,
        ("intent", "complaint"): F_COMPLAINT,
        ("intent", "greeting"): F_GREETING,
    }
    g.check([f for fl in frames.values() for f in fl])
    index = check_disjoint.EvalIndex(eval_texts)
    stats = {}
    out = {}
    all_norms = set()
    for task, labels, per_label in TASKS:
        own = check_disjoint.EvalIndex([])
        items = []
        for label in labels:
            fl = list(frames[(task, label)])
            rng.shuffle(fl)
            got = 0
            tries = 0
            k = 0
            while got < per_label:
                tries += 1
                if tries > per_label * 400:
                    raise SystemExit("make_labelled: stuck at %s/%s %d" % (task, label, got))
                frame = fl[k % len(fl)]
                k += 1
                text = tidy(g.expand(frame))
                st = stats.setdefault(task, {})
                st["candidates"] = st.get("candidates", 0) + 1
                why = violations(task, label, text)
                if why:
                    key = why.split(" (")[0]
                    st[key] = st.get(key, 0) + 1
                    continue
                norm = check_disjoint.normalize(text)
                if norm in all_norms:
                    st["duplicate"] = st.get("duplicate", 0) + 1
                    continue
                hit = index.overlap(text)
                if hit:
                    st["eval_" + hit[0]] = st.get("eval_" + hit[0], 0) + 1
                    continue
                if own.overlap(text):
                    st["near copy"] = st.get("near copy", 0) + 1
                    continue
                all_norms.add(norm)
                own.exact.setdefault(norm, len(own.texts))
                for gram in check_disjoint.ngrams(norm):
                    own.grams.setdefault(gram, set()).add(len(own.texts))
                own.texts.append(text)
                items.append((label, text))
                got += 1
        rng.shuffle(items)
        lines = []
        for i, (label, text) in enumerate(items):
            obj = {"id": "train-%s-%03d" % (task, i), "task": task, "text": text,
                   "label": label, "labels": labels}
            lines.append(json.dumps(obj) + "\n")
        out[task] = "".join(lines)
    return out, stats


def check_files(built, per_file_eval):
    """Invariants of the files on disk; returns a list of problems."""
    problems = []
    for task, labels, per_label in TASKS:
        path = os.path.join(OUT_DIR, task + ".jsonl")
        if not os.path.exists(path):
            problems.append("%s: missing" % path)
            continue
        with open(path, encoding="utf-8") as f:
            data = f.read()
        if data != built[task]:
            problems.append("%s: differs from a fresh build" % path)
        eval_labels = per_file_eval.get(task, [{}])[0].get("labels")
        if eval_labels != labels:
            problems.append("%s: label order %r differs from data/classify %r"
                            % (path, labels, eval_labels))
        counts = {}
        for i, line in enumerate(data.splitlines()):
            obj = json.loads(line)
            if list(obj) != ["id", "task", "text", "label", "labels"]:
                problems.append("%s:%d: keys" % (path, i + 1))
            if obj["id"] != "train-%s-%03d" % (task, i) or obj["task"] != task:
                problems.append("%s:%d: id/task" % (path, i + 1))
            if obj["labels"] != labels or obj["label"] not in labels:
                problems.append("%s:%d: label" % (path, i + 1))
            why = violations(task, obj["label"], obj["text"])
            if why:
                problems.append("%s:%d: %s" % (path, i + 1, why))
            counts[obj["label"]] = counts.get(obj["label"], 0) + 1
        if counts != {lab: per_label for lab in labels}:
            problems.append("%s: unbalanced %r" % (path, counts))
    return problems


def main(argv):
    eval_texts, per_file = load_eval()
    if not eval_texts:
        sys.stderr.write("make_labelled: no evaluation texts found at %s\n" % EVAL_GLOB)
        return 1
    built, stats = build(eval_texts)
    if "--check" in argv:
        problems = check_files(built, per_file)
        for p in problems:
            sys.stderr.write("make_labelled: %s\n" % p)
        if problems:
            return 1
        print("make_labelled: %s -- OK (byte-identical, balanced, rules hold)"
              % ", ".join("%s %d" % (t, len(built[t].splitlines())) for t, _, _ in TASKS))
        return 0
    os.makedirs(OUT_DIR, exist_ok=True)
    for task, _, _ in TASKS:
        with open(os.path.join(OUT_DIR, task + ".jsonl"), "w", encoding="ascii",
                  newline="\n") as f:
            f.write(built[task])
    for task, labels, per_label in TASKS:
        st = stats[task]
        dropped = ", ".join("%d %s" % (v, k) for k, v in sorted(st.items()) if k != "candidates")
        sys.stderr.write("make_labelled: %s: %d items (%d per label) from %d candidates; "
                         "dropped: %s; eval overlaps dropped: %d\n"
                         % (task, per_label * len(labels), per_label, st["candidates"],
                            dropped or "none", st.get("eval_exact", 0) + st.get("eval_near", 0)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
