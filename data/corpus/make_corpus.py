#!/usr/bin/env python3
"""Writes corpus.txt: the latentbus calibration corpus (written by us, CC0).

Deterministic: templates and word lists below, filled with a fixed seed, shuffled so that
any prefix mixes every domain. Run from anywhere: python3 make_corpus.py > corpus.txt
"""
import random

rng = random.Random(20261122)

PEOPLE = ["the mayor", "a local teacher", "the committee", "the new manager", "a young engineer",
          "the coach", "the minister", "a spokesperson", "the researchers", "the council",
          "an old farmer", "the pilot", "the nurses", "a bus driver", "the museum director",
          "my neighbour", "the chef", "a student", "the court", "the union"]
PLACES = ["the harbour", "the city centre", "a small village", "the northern valley",
          "the old station", "the university", "the coast", "the market square", "the airport",
          "the river bank", "the industrial park", "the mountain pass", "the library",
          "the hospital", "the stadium", "a quiet suburb", "the island", "the border town"]
THINGS = ["the bridge", "the budget", "the new road", "a water pipe", "the power line",
          "the school roof", "the ferry service", "the rail link", "the harvest", "the festival",
          "the election", "the weather", "the price of bread", "the museum", "the park"]
NEWS_VERBS = ["announced plans for", "criticised", "approved", "delayed", "reopened",
              "raised concerns about", "voted against", "celebrated", "inspected", "promised to repair",
              "cancelled", "expanded", "investigated", "defended", "postponed"]
TIMES = ["on Monday", "on Tuesday", "last week", "this morning", "yesterday", "late on Friday",
         "earlier this year", "after a long debate", "in March", "before the holidays",
         "at the weekend", "during the storm", "for the third time", "without warning"]
NUMBERS = ["two", "three", "five", "seven", "twelve", "twenty", "forty", "a hundred",
           "several thousand", "nearly half", "one in four", "dozens of"]
NEWS = [
    "{P} {V} {T} in {L} {W}.",
    "{N} residents of {L} were affected when {T} was closed {W}.",
    "{P} said {W} that {T} would be ready by the end of the month.",
    "Officials in {L} {V} {T} {W}, citing safety rules.",
    "A report published {W} found that {T} costs more than expected.",
    "{P} of {L} {V} {T}, and the debate continues.",
    "Traffic around {L} was slow {W} after {P} {V} {T}.",
    "Shares rose {W} as investors reacted to news about {T}.",
]

TECH_NOUNS = ["the cache", "the scheduler", "the parser", "the database", "the network card",
              "the compiler", "the load balancer", "the file system", "the kernel", "the queue",
              "the thread pool", "the index", "the socket", "the allocator", "the config file",
              "the API gateway", "the build system", "the hash table", "the log file", "the driver"]
TECH_VERBS = ["restart", "flush", "rebuild", "update", "check", "disable", "compress", "profile",
              "reload", "validate", "monitor", "migrate", "benchmark", "back up", "configure"]
TECH_ADJ = ["slow", "stale", "corrupted", "full", "idle", "overloaded", "misconfigured",
            "out of date", "fast", "stable", "busy", "locked"]
TECH = [
    "If {X} is {A}, {V} it before the next deployment.",
    "Run the tests again after you {V} {X}.",
    "The error appears when {X} becomes {A} under heavy load.",
    "To fix the timeout, {V} {X} and increase the retry limit.",
    "We measured {X} with a profiler and found it was {A}.",
    "Version 2 of {X} uses less memory and starts twice as fast.",
    "Remember to {V} {X} whenever the schema changes.",
    "Latency dropped by {N} percent once we stopped sharing {X} between threads.",
]
TECH_NUMS = ["ten", "twenty", "thirty", "fifty", "sixty", "eighty"]

FOODS = ["bread", "coffee", "apples", "soup", "rice", "cheese", "tea", "pasta", "eggs", "milk",
         "oranges", "cake", "beans", "fish", "honey"]
CHORES = ["wash the dishes", "walk the dog", "water the plants", "clean the kitchen",
          "pay the bills", "fix the bike", "call my sister", "buy new shoes", "pick up the kids",
          "take out the rubbish", "cook dinner", "iron the shirts", "change the sheets"]
DAYS = ["today", "tomorrow", "on Saturday", "this evening", "after work", "in the morning",
        "before lunch", "next week", "on Sunday", "tonight"]
FEELINGS = ["tired", "happy", "hungry", "cold", "busy", "bored", "excited", "nervous", "calm"]
EVERYDAY = [
    "I need to {C} {D}.",
    "We ran out of {F}, so I will go to the shop {D}.",
    "She was {E} after the long walk and made some {F}.",
    "Could you {C} while I {C2}?",
    "He always drinks {F} {D} and reads the paper.",
    "The children were {E} because it was raining {D}.",
    "Don't forget to {C} {D}; it is on the list.",
    "My grandmother keeps {F} in a blue tin on the shelf.",
]

SCI_SUBJ = ["water", "light", "sound", "a protein", "the enzyme", "the planet", "a neutron star",
            "the cell membrane", "carbon dioxide", "the bacteria", "the glacier", "the volcano",
            "a photon", "the electron", "the forest", "the ocean current", "the virus", "iron"]
SCI_VERB = ["absorbs", "reflects", "releases", "slows down", "speeds up", "breaks down",
            "binds to", "depends on", "changes", "controls", "produces", "responds to"]
SCI_OBJ = ["heat", "oxygen", "energy", "salt", "sunlight", "pressure", "nitrogen", "glucose",
           "radiation", "magnetic fields", "acidity", "temperature changes", "moisture"]
SCIENCE = [
    "{S} {V} {O} at high temperature.",
    "In the experiment, {S} {V} {O} more quickly than predicted.",
    "Scientists think that {S} {V} {O} over millions of years.",
    "The model shows how {S} {V} {O} in cold conditions.",
    "Measurements suggest that {S} {V} {O} in a regular cycle.",
    "A higher concentration of {O} means that {S} {V} it faster.",
    "The data indicate {S} rarely {V} {O} near the surface.",
]

CODE_NOUNS = ["buffer", "request", "token", "packet", "matrix", "handle", "cursor", "callback",
              "header", "payload", "iterator", "mutex", "offset", "checksum", "timeout", "span"]
CODE = [
    "// Returns the {N} or an error when the {M} is empty.",
    "// TODO: release the {N} before the {M} is closed.",
    "# Skip the {N} if the {M} has already been processed.",
    "// The caller owns the {N}; the {M} is borrowed.",
    "/* Thread safe: the {N} is guarded by the {M}. */",
    "# Convert the {N} to bytes and append the {M}.",
    "// Fails with InvalidArgument when the {N} is larger than the {M}.",
    "// Keep the {N} aligned to the {M} to avoid a copy.",
]

NAMES = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hugo", "Iris", "Jonas", "Kemal",
         "Lena", "Mei", "Noor", "Omar", "Priya", "Rosa", "Sam", "Tariq", "Uma"]
DIALOGUE = [
    "{A}: Are you coming {D}? {B}: Yes, I will be there at six.",
    "{A}: Where did you put the {F}? {B}: It is on the table.",
    "\"Can you help me {C}?\" asked {A}.",
    "{A}: I feel {E} today. {B}: Maybe you should rest.",
    "{A}: Did the meeting go well? {B}: Not really, it ran late.",
    "\"I think {X} is {TA},\" said {A}, \"so let's {TV} it.\"",
    "{A}: Have you seen {B}? {C2}: She left for {L} an hour ago.",
    "{A}: Thanks for the {F}! {B}: You're welcome.",
]

WORDS = sorted(set("""
time year people way day man thing woman life child world school state family student group
country problem hand part place case week company system program question work government
number night point home water room mother area money story fact month lot right study book eye
job word business issue side kind head house service friend father power hour game line end
member law car city community name president team minute idea kid body information back parent
face others level office door health person art war history party result change morning reason
research girl guy moment air teacher force education foot boy age policy music market sense
nation plan college interest death experience effect use class control care field development
role effort rate heart drug show leader light voice wife police mind price report decision son
view relationship town road arm difference value building action model season society tax
director position player record paper space ground form event official matter center couple
site project activity star table need court oil situation cost industry figure street image
phone data picture practice piece land product doctor wall patient worker news test movie north
love support technology step baby computer type attention film tree source organization hair
window evidence population site truth element network garden river bridge island forest
mountain valley ocean desert village harbour station engine signal memory thread packet buffer
kernel compiler vector matrix tensor gradient neuron protein enzyme molecule atom electron
photon planet galaxy orbit climate glacier volcano storm rain snow wind cloud summer winter
spring autumn bread coffee apple soup rice cheese tea pasta egg milk orange cake honey fish
salt sugar pepper butter kitchen chair table bed lamp clock mirror carpet pillow blanket
run walk read write speak listen think believe remember forget build break open close begin
finish carry bring send receive teach learn grow fall rise sleep wake laugh cry sing dance
swim fly drive ride climb jump throw catch cut cook clean wash paint draw count measure
happy sad angry calm quiet loud bright dark warm cold hot cool fast slow heavy light strong
weak young old new early late easy hard simple complex rich poor clean dirty empty full
green blue red yellow purple brown black white silver golden
""".split()))


def fill(template, pick):
    out = template
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        out = out[:start] + pick(out[start + 1:end]) + out[end + 1:]
    return out


def picker(mapping):
    def pick(key):
        return rng.choice(mapping[key])
    return pick


def cap(s):
    return s[0].upper() + s[1:]


def generate(templates, mapping, count):
    seen = set()
    out = []
    tries = 0
    while len(out) < count and tries < count * 50:
        tries += 1
        s = cap(fill(rng.choice(templates), picker(mapping)))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


items = []
items += generate(NEWS, {"P": PEOPLE, "V": NEWS_VERBS, "T": THINGS, "L": PLACES, "W": TIMES,
                         "N": NUMBERS}, 600)
items += generate(TECH, {"X": TECH_NOUNS, "V": TECH_VERBS, "A": TECH_ADJ, "N": TECH_NUMS}, 500)
items += generate(EVERYDAY, {"C": CHORES, "C2": CHORES, "D": DAYS, "F": FOODS, "E": FEELINGS},
                  500)
items += generate(SCIENCE, {"S": SCI_SUBJ, "V": SCI_VERB, "O": SCI_OBJ}, 500)
items += generate(CODE, {"N": CODE_NOUNS, "M": CODE_NOUNS}, 350)
items += generate(DIALOGUE, {"A": NAMES, "B": NAMES, "C2": NAMES, "D": DAYS, "F": FOODS,
                             "C": CHORES, "E": FEELINGS, "X": TECH_NOUNS, "TA": TECH_ADJ,
                             "TV": TECH_VERBS, "L": PLACES}, 450)
items += WORDS
rng.shuffle(items)
print("\n".join(items))
