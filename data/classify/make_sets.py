#!/usr/bin/env python3
"""Writes the classification development sets for `latentbus eval classify` (written by us, CC0).

Three label sets (topic, sentiment, intent), one JSONL file each, built from templates and
slot fillers written for latentbus; a fixed seed makes the output byte-identical on every run.
Python 3 standard library only.

  python3 make_sets.py            write topic.jsonl, sentiment.jsonl, intent.jsonl next to this file
  python3 make_sets.py --check    regenerate in memory, compare with the files and check the
                                  invariants; exit 1 on any difference or violation
  --dir DIR                       read/write the files in DIR instead

Edit the templates here, never the JSONL files.
"""
import argparse
import json
import os
import re
import sys

SEED = 20261123

# ---------------------------------------------------------------------------------------------
# Deterministic choice: an explicit 64-bit generator (splitmix64), so the output does not depend
# on the Python version's `random` implementation.


class Rng:
    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n  # bias of n / 2**64 is irrelevant here

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def shuffle(self, seq):
        for i in range(len(seq) - 1, 0, -1):
            j = self.below(i + 1)
            seq[i], seq[j] = seq[j], seq[i]


# ---------------------------------------------------------------------------------------------
# topic: sports / business / science / weather. Each sentence belongs to one topic only: no
# rain in the sports sentences, no "forecast" in the business ones, no scientists anywhere
# ("scien" is banned), and the label words never appear.

TOPIC_FILL = {
    "PLAYER": ["the young striker", "the veteran goalkeeper", "the team captain", "the star forward",
               "the teenage winger", "the defending champion", "the left-back", "the home favourite",
               "the substitute", "the club's top scorer"],
    "TEAM": ["Riverside United", "the Northgate Rovers", "the city's rugby side", "the visiting team",
             "the home side", "the county cricket club", "the national hockey squad", "Eastfield Athletic",
             "the university basketball team", "the bottom club"],
    "CLUB": ["Riverside United", "the Northgate Rovers", "Eastfield Athletic", "the home side",
             "the league leaders", "the visitors", "Harbour Town", "the cup holders"],
    "ATHLETE": ["the teenage sprinter", "the reigning world champion", "a young athlete from the north",
                "the Olympic silver medallist", "the university student", "the veteran competitor"],
    "MATCH": ["the cup final", "the semi-final", "Saturday's derby", "the opening game of the season",
              "the play-off", "the away leg", "the quarter-final"],
    "SCORE": ["three goals to one", "two goals to nil", "four to three after extra time",
              "on penalties", "by a single goal", "five to two"],
    "RACE": ["100 metres", "400 metres hurdles", "200 metres freestyle", "long jump", "high jump",
             "1500 metres", "triple jump"],
    "TRACK": ["100 metres", "1500 metres", "400 metres hurdles", "5000 metres", "marathon", "200 metres"],
    "DAY": ["Saturday", "Sunday", "Tuesday night", "Wednesday", "the final day of the season"],
    "COMPANY": ["a regional airline", "the carmaker", "a software start-up", "the supermarket chain",
                "a family-owned brewery", "the steel producer", "an online retailer",
                "the country's largest bank", "a furniture maker", "the mobile phone operator",
                "a fashion label", "the shipping group"],
    "METRIC": ["quarterly profits", "annual revenue", "online sales", "operating costs",
               "first-half earnings", "export sales"],
    "CHANGE": ["rose by eight percent", "fell sharply", "nearly doubled",
               "dropped for a third quarter in a row", "climbed to a record high", "slipped by two percent"],
    "JOBS": ["four hundred", "two thousand", "about nine hundred", "one in ten of its", "several hundred"],
    "HIRE": ["four hundred", "two thousand", "several hundred", "about fifty"],
    "INDUSTRY": ["regional airlines", "supermarket chains", "mobile phone operators", "steel producers",
                 "shipping groups", "national banks"],
    "WEEKDAY": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    "DISCOVERY": ["frog in the Andean cloud forest", "blind cave fish in a remote cave system",
                  "jellyfish on the deep ocean floor", "beetle in the mountains of Borneo",
                  "orchid in the mountains of Borneo", "shrimp on a coral reef off Madagascar",
                  "bat in a remote cave system", "lizard on a volcanic island",
                  "freshwater snail in a flooded limestone quarry", "moth in the Andean cloud forest"],
    "SPECIES": ["frog", "honeybee", "orchid", "octopus", "axolotl", "coffee plant", "tardigrade",
                "wheat plant"],
    "FOSSILSITE": ["a dried-up salt lake", "a coastal cliff", "a quarry in Wyoming", "the Gobi desert",
                   "a coal mine in China"],
    "SPACE": ["a dying star", "the rings of Saturn", "a distant galaxy", "a young planetary system",
              "the centre of the Milky Way", "a pair of colliding neutron stars"],
    "RADIO": ["a distant galaxy", "a dying star", "a young planetary system", "the centre of the Milky Way",
              "a pair of colliding neutron stars", "a cloud of gas near a black hole"],
    "LANDING": ["the surface of Mars", "Jupiter's icy moon Europa", "Saturn's moon Enceladus",
                "Saturn's moon Titan"],
    "FINDING": ["crows can recognise individual human faces", "honeybees can count up to five",
                "octopuses can learn to open screw-top jars", "dolphins call each other with unique whistles",
                "rats learn new routes by watching each other", "parrots can use simple tools",
                "goats can tell happy human faces from angry ones", "ants remember a route for weeks"],
    "REGION": ["the north", "coastal areas", "the capital", "the western hills", "the south-east",
               "the islands", "the valleys", "the whole country", "the lowlands"],
    "WHEN": ["tomorrow", "this weekend", "on Monday", "later tonight", "through Wednesday",
             "over the holiday weekend", "on Thursday morning"],
    "DAYTIME": ["tomorrow", "this weekend", "on Monday", "through Wednesday", "over the holiday weekend",
                "on Thursday afternoon"],
    "TEMP": ["thirty-two", "thirty-five", "thirty-eight", "forty"],
}

TOPIC = {
    "sports": [
        "{PLAYER} scored twice in the second half as {CLUB} won {SCORE}.",
        "{TEAM} dismissed their head coach after a fifth straight defeat at home.",
        "The referee sent off {PLAYER} just ten minutes into {MATCH}, and {CLUB} never recovered.",
        "{ATHLETE} set a new national record in the {RACE} at the indoor championships.",
        "Tickets for {MATCH} between {CLUB} and {CLUB2} sold out within an hour.",
        "After tearing a knee ligament in training, {PLAYER} will miss the rest of the season.",
        "The tennis final went to five sets before the defending champion finally served out the match.",
        "{TEAM} need a win on {DAY} to avoid relegation to the lower division.",
        "The golfer holed a long putt on the eighteenth green to win the tournament by one stroke.",
        "Fans cheered as the teenager crossed the line first in the {TRACK} final.",
        "The coach praised the defence after {TEAM} kept a clean sheet for the fourth game running.",
        "{CLUB} came back from two goals down to draw with {CLUB2} in {MATCH}.",
        "The boxer knocked out his opponent in the third round to keep his world title.",
        "The pitcher struck out the last three batters to win the game for the visitors.",
        "{PLAYER} was booked for diving and later apologised to the fans.",
    ],
    "business": [
        "{COMPANY} said {METRIC} {CHANGE} compared with the same period last year.",
        "Shares in {COMPANY} jumped after it agreed to buy a smaller competitor.",
        "{COMPANY} plans to cut {JOBS} jobs and close two sites by the end of the year.",
        "The central bank raised interest rates by a quarter point to slow inflation.",
        "Investors fear that {COMPANY} has borrowed too much to pay for its expansion.",
        "{COMPANY} appointed a new chief executive after the founder stepped down.",
        "The planned merger of two {INDUSTRY} still needs approval from competition regulators.",
        "Small shop owners say rising rents are squeezing their profit margins.",
        "{COMPANY} plans to hire {HIRE} new staff next year as demand keeps growing.",
        "The stock market closed lower on {WEEKDAY} as traders worried about new import tariffs.",
        "{COMPANY} is raising its prices to cover the higher cost of raw materials and shipping.",
        "Quarterly earnings at {COMPANY} beat analysts' expectations, sending the shares higher.",
        "The start-up raised twelve million dollars from venture capital funds to expand into Asia.",
        "Consumer spending slowed last month as households cut back on restaurants and holidays.",
        "{COMPANY} agreed to pay a large fine to settle claims that it misled its shareholders.",
    ],
    "science": [
        "Researchers have discovered a new species of {DISCOVERY}.",
        "A new telescope has captured the most detailed images yet of {SPACE}.",
        "Biologists found that {FINDING}, according to a study published this week.",
        "Chemists have developed a battery material that can be fully charged in under five minutes.",
        "Ancient DNA suggests that people reached the islands thousands of years earlier than thought.",
        "Physicists measured the mass of the particle with record precision at the collider.",
        "The probe will land on {LANDING} next year to search for signs of microbial life.",
        "Geologists believe the crater was formed by an asteroid impact sixty million years ago.",
        "In a laboratory experiment, the bacteria evolved resistance to the antibiotic within weeks.",
        "Researchers sequenced the full genome of the {SPECIES} for the first time.",
        "New laboratory experiments suggest that {FINDING}.",
        "Astronomers detected a faint radio signal coming from {RADIO}.",
        "A fossil found in {FOSSILSITE} shows that early mammals lived alongside dinosaurs.",
        "Trial results suggest the new molecule teaches the immune system to attack the virus.",
        "Engineers built a quantum chip that keeps its qubits stable ten times longer than before.",
    ],
    "weather": [
        "Expect heavy rain in {REGION} {WHEN}, with strong winds along the coast.",
        "Temperatures will drop below freezing overnight across {REGION}, so watch out for icy roads.",
        "A heatwave is on the way for {REGION}, with highs of {TEMP} degrees {DAYTIME}.",
        "Thick fog has cut visibility to a few metres across {REGION} this morning.",
        "Snow is expected to fall on high ground {WHEN}, with up to twenty centimetres in places.",
        "It will be sunny and mild {DAYTIME}, with only a light breeze from the west.",
        "A storm warning is in place for {REGION} as gusts could reach ninety kilometres per hour.",
        "Morning showers will clear by the afternoon, leaving blue skies and a chilly night.",
        "Forecasters say the dry spell will continue, with no rain in sight for {REGION}.",
        "Thunderstorms are likely {WHEN}, so take an umbrella if you are heading out.",
        "Hailstones the size of marbles fell across {REGION} during a short but violent downpour.",
        "The humidity will make it feel much hotter than {TEMP} degrees {DAYTIME}.",
        "Overnight frost is likely in {REGION}, so cover tender plants before you go to bed.",
        "Cloud will thicken from the west {WHEN}, bringing drizzle by the evening.",
        "A band of sleet will move across {REGION} {WHEN}, turning to snow on the hills.",
    ],
}

# ---------------------------------------------------------------------------------------------
# sentiment: positive / negative reviews. Each domain has its own praise and criticism; a
# positive frame only ever takes praise, a negative frame only criticism, so there is no
# mixed review.

DOMAINS = [
    ("the hotel",
     ["the room was spotless and the bed was very comfortable",
      "the staff remembered our names from the first day",
      "breakfast was fresh, varied and generous"],
     ["the room smelled of smoke and the shower ran cold",
      "the staff at the front desk were rude to us",
      "the walls were so thin that we barely slept"]),
    ("the restaurant",
     ["every dish was full of flavour",
      "the waiter gave us great suggestions",
      "the dessert was the best we have ever had"],
     ["the soup arrived cold and the fish was dry",
      "we waited an hour for our main course",
      "the bill included drinks we never ordered"]),
    ("the film",
     ["the acting was superb from start to finish",
      "the story kept me gripped until the last scene",
      "the soundtrack gave me goosebumps"],
     ["the plot made no sense at all",
      "the dialogue was painfully clumsy",
      "I nearly fell asleep halfway through"]),
    ("this phone",
     ["the battery easily lasts two days",
      "the camera takes sharp photos even at night",
      "it feels solid and fast in the hand"],
     ["the screen cracked within a week",
      "the battery dies before lunch",
      "it freezes every time I open an app"]),
    ("the novel",
     ["the characters felt like real people",
      "I could not put it down",
      "the ending was moving and perfectly judged"],
     ["the characters were flat and forgettable",
      "the middle chapters dragged on forever",
      "the ending felt lazy and rushed"]),
    ("the online course",
     ["the teacher explained everything clearly",
      "the exercises were practical and fun",
      "I learned more in a month than in a year on my own"],
     ["the videos were blurry and badly recorded",
      "the teacher never answered our messages",
      "half the lessons were copied from free websites"]),
    ("this blender",
     ["it crushes ice in a few seconds",
      "it is quiet and very easy to clean",
      "my morning smoothies have never tasted better"],
     ["the motor burned out after two uses",
      "the lid leaks every single time",
      "it is so loud that it wakes the whole house"]),
    ("the concert",
     ["the band played for almost three hours",
      "the sound was crystal clear even at the back",
      "the whole crowd was singing and smiling"],
     ["the sound was muddy and far too loud",
      "the band turned up late and played for barely forty minutes",
      "we could not see the stage at all"]),
    ("the airline",
     ["the crew were friendly and the seats were roomy",
      "we landed early and our bags came out first",
      "the meal on board was surprisingly tasty"],
     ["our flight was delayed six hours with no explanation",
      "they lost my suitcase and never called back",
      "the seats were cramped and sticky"]),
    ("the gym",
     ["the trainers are encouraging and patient",
      "the equipment is modern and well kept",
      "the changing rooms are always clean"],
     ["half the machines have been broken for months",
      "the changing rooms are dirty and smell of damp",
      "the staff keep pushing expensive extras"]),
    ("the hairdresser",
     ["she listened carefully and my haircut looks fantastic",
      "the salon was relaxing and the price was fair",
      "my colour came out exactly as I had hoped"],
     ["my haircut is uneven and far too short",
      "she ignored everything I asked for",
      "the dye left stains on my neck and ears"]),
    ("the museum tour",
     ["our guide made every room come alive",
      "the exhibits were fascinating and well explained",
      "the children enjoyed every minute"],
     ["our guide mumbled and rushed through every room",
      "half the galleries were closed without notice",
      "the queues were endless and the rooms were packed"]),
]

SENTIMENT = {
    "positive": [
        "I loved {THING}; {D}.",
        "{THING} went beyond all my hopes, and {D}.",
        "Five stars from me: {D}.",
        "What a delight! {D}.",
        "A wonderful experience with {THING}, because {D}.",
        "I would recommend {THING} to anyone, since {D}.",
        "We were thrilled with {THING}: {D}.",
        "Brilliant value for money, and {D}.",
    ],
    "negative": [
        "I hated {THING}; {D}.",
        "{THING} was a huge disappointment, and {D}.",
        "One star, and only because zero is not allowed: {D}.",
        "What a letdown! {D}.",
        "A terrible experience with {THING}, because {D}.",
        "Stay away from {THING}, since {D}.",
        "We were furious with {THING}: {D}.",
        "A complete waste of money, and {D}.",
    ],
}

# ---------------------------------------------------------------------------------------------
# intent: question (asks for information), request (asks someone to do something),
# complaint (states dissatisfaction, asks nothing), greeting (says hello). Questions always end
# in "?"; complaints and greetings never do; requests mostly use "please", "kindly", "would you
# mind" and ask for an action, never for information.

INTENT_FILL = {
    "PLACE": ["the library", "the swimming pool", "the post office", "the pharmacy", "the town hall",
              "the museum", "the recycling centre", "the bank on the high street"],
    "BUILDING": ["the library", "the town hall", "the museum", "the shopping centre", "the hospital",
                 "the art gallery"],
    "DAYS": ["Sundays", "public holidays", "Saturday mornings", "the first Monday of the month"],
    "DEST": ["the airport", "the city centre", "the old town", "the university campus",
             "the main station", "the beach"],
    "SHOP": ["pharmacy", "bakery", "petrol station", "supermarket", "bookshop", "launderette"],
    "CORNER": ["bakery", "bookshop", "florist", "newsagent", "butcher", "cafe"],
    "EVENT": ["summer fair", "team dinner", "book club meeting", "charity run", "open day",
              "school concert"],
    "DAY": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    "TIME": ["eight fifteen", "half past nine", "ten o'clock", "six forty", "midday"],
    "TICKET": ["monthly bus pass", "return ticket to the coast", "family ticket for the zoo",
               "season ticket for the pool", "parking permit"],
    "FORM": ["tax return", "summer school application", "travel expenses claim", "grant proposal",
             "housing benefit form"],
    "TASK": ["meeting notes", "kitchen rota", "weekend on-call shift", "visitor badges",
             "office plants"],
    "DOC": ["signed contract", "latest invoice", "meeting minutes", "draft report", "floor plan",
            "holiday schedule"],
    "N": ["four", "six", "two", "ten", "twelve"],
    "ITEM": ["some milk", "a loaf of bread", "my prescription", "the parcel", "a bag of rice",
             "some batteries"],
    "WHEN": ["tomorrow morning", "this afternoon", "on Friday", "before the weekend", "first thing on Monday"],
    "AWAY": ["next week", "over the holidays", "in August", "for the weekend"],
    "NAME": ["Sam", "Priya", "Tom", "Amelia", "Jonas", "Fatima", "Luis", "Mei", "Grace", "Omar"],
    "GROUP": ["everyone", "team", "folks", "friends", "neighbours"],
    "CITY": ["Lisbon", "Glasgow", "Toronto", "Melbourne", "Oslo", "Cape Town"],
    "PARTY": ["garden party", "launch party", "reunion", "wedding", "quiz night"],
    "ORDER": ["parcel", "new sofa", "grocery order", "birthday present", "replacement part"],
    "DELIVERY": ["parcel", "grocery order", "new printer", "birthday present", "box of books"],
    "LATE": ["two weeks", "five days", "a whole month", "ten days"],
    "SERVICE": ["internet connection", "hot water", "lift in our building", "heating",
                "card machine at the till"],
    "ROOM": ["hotel room", "holiday flat", "rental car", "train carriage"],
    "CHARGE": ["subscription", "concert ticket", "hotel booking", "delivery fee", "phone bill"],
    "NOISE": ["flat upstairs", "building site next door", "bar across the street", "neighbours' dog"],
    "TRANSPORT": ["morning train", "last bus home", "early ferry", "connecting flight"],
    "PRODUCT": ["kettle", "vacuum cleaner", "office chair", "umbrella", "toaster", "pair of boots"],
}

INTENT = {
    "question": [
        "What time does {PLACE} open on {DAYS}?",
        "How long does it take to get from {DEST} to {DEST2} by bus?",
        "Does {PLACE} have free parking for visitors?",
        "Where is the nearest {SHOP} that stays open late at night?",
        "Is the {EVENT} still going ahead on {DAY}, or has it been moved?",
        "Which platform does the {TIME} train to {DEST} leave from?",
        "How much does a {TICKET} cost at the moment?",
        "When is the deadline for handing in the {FORM}?",
        "Who is looking after the {TASK} this week?",
        "Do you know whether the {CORNER} on the corner takes cards?",
        "Is there a lift to the upper floors of {BUILDING}?",
        "How many people fit in the small meeting room on the second floor?",
    ],
    "request": [
        "Please send me a copy of the {DOC} before {DAY}.",
        "Could you book a table for {N} at the Italian place for seven tonight, please?",
        "Please move my appointment from {DAY} to {DAY2} afternoon.",
        "Would you mind picking up {ITEM} on your way home?",
        "Kindly forward the {DOC} to the whole team by the end of the day.",
        "I need you to call the plumber and ask him to come {WHEN}.",
        "Please turn the music down a little while I finish this call.",
        "Can you please print {N} copies of the {DOC} for tomorrow's workshop?",
        "Please reset my password and email the new one to me {WHEN}.",
        "Could you water my plants while I am away {AWAY}, please?",
        "Please add {NAME} to the guest list for the {PARTY}.",
        "Lock the back door and switch off the lights when you leave, please.",
    ],
    "complaint": [
        "My {ORDER} arrived {LATE} late and the box was completely crushed.",
        "This is the third time this month that the {SERVICE} has stopped working, and I am fed up.",
        "I waited on hold for over an hour and nobody ever answered the phone.",
        "The {ROOM} was filthy when we arrived, which is unacceptable at that price.",
        "I was charged twice for the same {CHARGE} and I still have not been refunded.",
        "The noise from the {NOISE} kept us awake all night again.",
        "The {TRANSPORT} was cancelled again without any warning, and I missed an important meeting.",
        "Your driver was rude to me and left my {DELIVERY} out in the rain by the gate.",
        "I have emailed your support team four times and received no reply at all.",
        "The {PRODUCT} I bought last week has already fallen apart, and the quality is simply awful.",
        "Nobody told us the {EVENT} was off until we had already driven two hours to get there.",
        "The food was cold, the portions were tiny, and the staff ignored us all evening.",
    ],
    "greeting": [
        "Good morning, {GROUP}! I hope you all had a restful weekend.",
        "Hi {NAME}, how lovely to hear from you again after all this time.",
        "Hello {NAME}, and a very warm welcome to the team from all of us!",
        "Good evening, {NAME}; it is a real pleasure to finally meet you in person.",
        "Happy Friday, {GROUP}! Wishing you a relaxing couple of days off.",
        "Hi {GROUP}, just popping in to say hello from the new office in {CITY}.",
        "Hey {NAME}, so nice to see you at the {PARTY} tonight!",
        "Good afternoon, {GROUP}, and thank you all for joining us today.",
        "Hello from sunny {CITY}, {GROUP}! Sending warm wishes to you all.",
        "Morning, {NAME}! Lovely to bump into you here at the market.",
        "Hi there, {NAME}, it has been far too long since we last saw each other.",
        "Happy new year to you and your family, {NAME}, from all of us here in {CITY}.",
    ],
}

# ---------------------------------------------------------------------------------------------
# Label sets, item counts, and the stems a text may not contain (case-insensitive substring):
# every label word of its set, plus its obvious relatives, so that no item is solvable by
# string matching.

SETS = [
    # name, labels (prompt order), items per label, banned substrings
    ("topic", ["sports", "business", "science", "weather"], 36,
     ["sport", "business", "scien", "weather"]),
    ("sentiment", ["positive", "negative"], 70,
     ["positiv", "negativ"]),
    ("intent", ["question", "request", "complaint", "greeting"], 36,
     ["question", "request", "complain", "greet"]),
]

MIN_WORDS, MAX_WORDS = 8, 30
KEYS = ["id", "task", "text", "label", "labels"]

SLOT = re.compile(r"\{([A-Z]+)(\d?)\}")


def cap(s):
    return s[0].upper() + s[1:]


def fill(template, fillers, rng):
    """Fills every {SLOT} / {SLOT2}; slots sharing a list get distinct values."""
    used = {}

    def one(m):
        name = m.group(1)
        taken = used.setdefault(name, [])
        options = [v for v in fillers[name] if v not in taken]
        v = rng.choice(options)
        taken.append(v)
        return v

    return cap(SLOT.sub(one, template))  # slots start a sentence only at the template's start


def generate(templates, make, count, rng, seen):
    """count unique texts, cycling through the templates so that each is used about equally."""
    out = []
    order = list(range(len(templates)))
    rng.shuffle(order)
    misses = [0] * len(templates)
    k = 0
    while len(out) < count:
        t = order[k % len(order)]
        k += 1
        if misses[t] >= 60:  # this template has run out of fresh combinations
            if all(m >= 60 for m in misses):
                raise SystemExit("make_sets: templates exhausted")
            continue
        for _ in range(60):
            text = make(templates[t])
            if text not in seen:
                seen.add(text)
                out.append(text)
                break
            misses[t] += 1
    return out


def build():
    """Returns {set name: JSONL text}."""
    rng = Rng(SEED)
    seen = set()
    files = {}
    for name, labels, per_label, _ in SETS:
        items = []
        for label in labels:
            if name == "topic":
                make = lambda t: fill(t, TOPIC_FILL, rng)
                texts = generate(TOPIC[label], make, per_label, rng, seen)
            elif name == "intent":
                make = lambda t: fill(t, INTENT_FILL, rng)
                texts = generate(INTENT[label], make, per_label, rng, seen)
            else:
                idx = 2 if label == "positive" else 3

                def make(t, idx=idx):
                    thing, *details = rng.choice(DOMAINS)
                    d = rng.choice(details[idx - 2])
                    if t.startswith("{THING}"):
                        t = cap(thing) + t[len("{THING}"):]
                    if t.endswith("! {D}."):
                        d = cap(d)
                    return t.replace("{THING}", thing).replace("{D}", d)
                texts = generate(SENTIMENT[label], make, per_label, rng, seen)
            items += [(text, label) for text in texts]
        rng.shuffle(items)
        lines = []
        for i, (text, label) in enumerate(items):
            obj = {"id": "%s-%03d" % (name, i), "task": name, "text": text, "label": label,
                   "labels": labels}
            lines.append(json.dumps(obj, ensure_ascii=True))
        files[name] = "\n".join(lines) + "\n"
    return files


def validate(contents):
    """Checks the invariants of the files' contents {name: text}. Returns (errors, summary)."""
    errors = []
    ids = set()
    texts = set()
    parts = []
    total = 0
    for name, labels, per_label, banned in SETS:
        counts = {label: 0 for label in labels}
        lines = contents[name].split("\n")
        if lines[-1] != "":
            errors.append("%s: no newline at end of file" % name)
        for n, line in enumerate(lines[:-1], 1):
            where = "%s.jsonl:%d" % (name, n)
            try:
                obj = json.loads(line)
            except ValueError as e:
                errors.append("%s: not JSON (%s)" % (where, e))
                continue
            if not isinstance(obj, dict) or list(obj) != KEYS:
                errors.append("%s: keys must be exactly %s" % (where, KEYS))
                continue
            if obj["task"] != name:
                errors.append("%s: task %r, expected %r" % (where, obj["task"], name))
            if obj["labels"] != labels:
                errors.append("%s: labels %r, expected %r" % (where, obj["labels"], labels))
            if obj["label"] not in obj["labels"]:
                errors.append("%s: label %r not in labels" % (where, obj["label"]))
            else:
                counts[obj["label"]] = counts.get(obj["label"], 0) + 1
            if obj["id"] in ids:
                errors.append("%s: duplicate id %r" % (where, obj["id"]))
            ids.add(obj["id"])
            text = obj["text"]
            if not isinstance(text, str) or not text.isascii() or not text.isprintable():
                errors.append("%s: text must be printable ASCII" % where)
                continue
            if text in texts:
                errors.append("%s: duplicate text" % where)
            texts.add(text)
            words = len(text.split())
            if not MIN_WORDS <= words <= MAX_WORDS:
                errors.append("%s: %d words, expected %d-%d" % (where, words, MIN_WORDS, MAX_WORDS))
            low = text.lower()
            hits = [stem for stem in banned + labels if stem in low]
            if hits:
                errors.append("%s: text contains %r" % (where, hits[0]))
        if len(set(counts.values())) != 1 or counts[labels[0]] != per_label:
            errors.append("%s: unbalanced labels %s (expected %d each)" % (name, counts, per_label))
        n_items = sum(counts.values())
        total += n_items
        parts.append("%s %d (%s)" % (name, n_items,
                                     " ".join("%s %d" % (l, counts[l]) for l in labels)))
    summary = "classify: %d items: %s" % (total, "; ".join(parts))
    return errors, summary


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="compare the files with a fresh build and check invariants; exit 1 on failure")
    ap.add_argument("--dir", default=here, help="folder of the JSONL files (default: this script's)")
    args = ap.parse_args()

    files = build()
    errors, _ = validate(files)
    if errors:  # a generator bug: never write invalid files
        for e in errors:
            print("make_sets: generated " + e, file=sys.stderr)
        return 1

    if not args.check:
        for name, text in files.items():
            with open(os.path.join(args.dir, name + ".jsonl"), "w", encoding="ascii", newline="\n") as f:
                f.write(text)
        print(validate(files)[1] + " -> written to " + args.dir)
        return 0

    on_disk = {}
    for name, text in files.items():
        path = os.path.join(args.dir, name + ".jsonl")
        try:
            with open(path, "rb") as f:
                on_disk[name] = f.read().decode("utf-8", "replace")
        except OSError as e:
            print("make_sets --check: FAIL: cannot read %s: %s" % (path, e), file=sys.stderr)
            return 1
        if on_disk[name] != text:
            print("make_sets --check: FAIL: %s differs from the generator's output "
                  "(run python3 make_sets.py)" % path, file=sys.stderr)
            errors.append(name + ".jsonl differs")
    file_errors, summary = validate(on_disk)
    for e in file_errors:
        print("make_sets --check: FAIL: " + e, file=sys.stderr)
    if errors or file_errors:
        return 1
    print(summary + " -- OK (byte-identical, balanced, unique ids, no label words in text)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
