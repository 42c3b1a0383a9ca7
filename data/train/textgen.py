"""Small helpers shared by make_messages.py and make_labelled.py (standard library only).

- Rng: a PCG32 generator (O'Neill's PCG-XSH-RR, 64-bit state), so that the output depends only
  on the seed and not on the Python version's `random` module.
- Grammar: expands templates. Syntax inside a template:
    {slot}       pick one entry of the lexicon list `slot` and expand it in turn; an entry may
                 also be a function rng -> str (numbers, times, names)
    {slot@k}     the same, but the first pick is remembered under k for the rest of the message,
                 so "{name@a} ... {name@a}" names the same person twice
    [a|b|c]      pick one alternative; [a|] makes `a` optional. Brackets nest.
    ^            capitalize the next letter;  ~  do not auto-capitalize the next letter
- tidy(): spacing before punctuation, a/an, sentence-initial capitals, ASCII check.
"""

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1


class Rng:
    def __init__(self, seed, stream=54):
        self.state = 0
        self.inc = ((stream << 1) | 1) & MASK64
        self.next32()
        self.state = (self.state + seed) & MASK64
        self.next32()

    def next32(self):
        old = self.state
        self.state = (old * 6364136223846793005 + self.inc) & MASK64
        xorshifted = (((old >> 18) ^ old) >> 27) & MASK32
        rot = old >> 59
        return ((xorshifted >> rot) | (xorshifted << ((-rot) & 31))) & MASK32

    def below(self, n):
        """Uniform integer in [0, n), without modulo bias."""
        if n <= 0 or n > MASK32:
            raise ValueError("below(%r)" % n)
        threshold = ((1 << 32) - n) % n
        while True:
            r = self.next32()
            if r >= threshold:
                return r % n

    def randint(self, lo, hi):
        return lo + self.below(hi - lo + 1)

    def chance(self, num, den):
        return self.below(den) < num

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def weighted(self, pairs):
        total = sum(w for w, _ in pairs)
        r = self.below(total)
        for w, v in pairs:
            if r < w:
                return v
            r -= w
        raise AssertionError

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def words(s):
    """'a b c' -> ['a', 'b', 'c'] (split on whitespace)."""
    return s.split()


def phrases(s):
    """'a b; c d' -> ['a b', 'c d'] (split on semicolons; a newline is a space)."""
    out = []
    for part in s.replace("\n", " ").split(";"):
        part = " ".join(part.split())
        if part:
            out.append(part)
    return out


class Grammar:
    def __init__(self, lexicon, rng):
        self.lex = lexicon
        self.rng = rng
        self._cache = {}
        self.bound = {}
        self.used = {}

    def _parse(self, s):
        """Parse into a list of nodes: str | ('slot', name, key) | ('alt', [seq, ...])."""
        if s in self._cache:
            return self._cache[s]
        pos = 0

        def seq(stop):
            nonlocal pos
            nodes, buf = [], []
            while pos < len(s):
                c = s[pos]
                if c in stop:
                    break
                if c == "{":
                    end = s.index("}", pos)
                    name = s[pos + 1:end]
                    key = None
                    if "@" in name:
                        name, key = name.split("@", 1)
                    if buf:
                        nodes.append("".join(buf))
                        buf = []
                    nodes.append(("slot", name, key))
                    pos = end + 1
                elif c == "[":
                    pos += 1
                    alts = [seq("|]")]
                    while s[pos] == "|":
                        pos += 1
                        alts.append(seq("|]"))
                    if s[pos] != "]":
                        raise ValueError("unbalanced [ in %r" % s)
                    pos += 1
                    if buf:
                        nodes.append("".join(buf))
                        buf = []
                    nodes.append(("alt", alts))
                else:
                    buf.append(c)
                    pos += 1
            if buf:
                nodes.append("".join(buf))
            return nodes

        try:
            nodes = seq("")
        except (IndexError, ValueError) as e:
            raise ValueError("bad template %r: %s" % (s, e))
        if pos != len(s):
            raise ValueError("stray %r in template %r" % (s[pos], s))
        self._cache[s] = nodes
        return nodes

    def _expand_nodes(self, nodes, depth):
        if depth > 40:
            raise RecursionError("template recursion too deep")
        out = []
        for n in nodes:
            if isinstance(n, str):
                out.append(n)
            elif n[0] == "alt":
                out.append(self._expand_nodes(self.rng.choice(n[1]), depth + 1))
            else:
                _, name, key = n
                if key is not None and (name, key) in self.bound:
                    out.append(self.bound[(name, key)])
                    continue
                val = self.slot(name, depth)
                if key is not None:
                    self.bound[(name, key)] = val
                out.append(val)
        return "".join(out)

    def slot(self, name, depth=0):
        """Pick and expand one entry of slot `name`. Within one message the same slot avoids
        repeating a value it already produced (a few retries), so "{city} to {city}" names two
        different cities."""
        if name not in self.lex:
            raise KeyError("unknown slot {%s}" % name)
        entry = self.lex[name]
        used = self.used.setdefault(name, set())
        val = None
        for _ in range(8):
            pick = entry if callable(entry) else self.rng.choice(entry)
            if callable(pick):
                pick = pick(self.rng)
            val = self._expand_nodes(self._parse(pick), depth + 1)
            if val not in used:
                break
        used.add(val)
        return val

    def check(self, extra=()):
        """Parse every template of the lexicon (and `extra`); raise on a bad template or an
        unknown slot."""
        todo = list(extra)
        for entry in self.lex.values():
            if not callable(entry):
                todo.extend(e for e in entry if isinstance(e, str))

        def walk(nodes):
            for n in nodes:
                if isinstance(n, str):
                    continue
                if n[0] == "alt":
                    for a in n[1]:
                        walk(a)
                elif n[1] not in self.lex:
                    raise KeyError("unknown slot {%s}" % n[1])
        for t in todo:
            walk(self._parse(t))

    def expand(self, template):
        """Expand one message; bindings ({slot@k}) last for this call only."""
        self.bound = {}
        self.used = {}
        return self._expand_nodes(self._parse(template), 0)


# Words after "a" that take "an" although they start with a consonant letter, and words that
# start with a vowel letter but take "a".
_AN_EXCEPTIONS = {"hour", "hours", "hourly", "honest", "honestly", "honour", "honor", "heir",
                  "herb", "herbs", "unimportant", "uninformed", "unidentified", "unimpressed",
                  "uninstalled", "uninterested", "uninsured", "uninvited", "unironic"}
_A_PREFIXES = ("uni", "use", "usu", "uti", "uto", "ure", "uri", "eu", "one", "once", "ewe", "ubiq",
               "unanim")
# Letters whose names start with a vowel sound, for acronyms ("an SSD", "a USB stick").
_VOWEL_SOUND_LETTERS = set("AEFHILMNORSX")


def _wants_an(word):
    w = word.strip("\"'()[],.;:!?")
    if not w:
        return False
    if w.isupper() and len(w) > 1 and w.isalpha():
        return w[0] in _VOWEL_SOUND_LETTERS and w not in ("URL", "UI", "USB", "UX", "UTC")
    if w[0].isdigit():
        # "an 8", "an 80", "an 11", "an 18,000"; but "a 110", "a 1,100"
        lead = ""
        for ch in w:
            if not ch.isdigit():
                break
            lead += ch
        return lead.startswith("8") or lead in ("11", "18")
    lw = w.lower()
    if lw.startswith("x-"):
        return True
    if lw in _AN_EXCEPTIONS:
        return True
    if lw.startswith(_A_PREFIXES):
        return False
    return lw[0] in "aeiou"


def fix_articles(text):
    toks = text.split(" ")
    for i in range(len(toks) - 1):
        mark = toks[i][:len(toks[i]) - len(toks[i].lstrip("^~"))]
        t = toks[i][len(mark):]
        if t in ("a", "A", "an", "An"):
            want_an = _wants_an(toks[i + 1].lstrip("^~"))
            base = "an" if want_an else "a"
            toks[i] = mark + (base.capitalize() if t[0] == "A" else base)
    return " ".join(toks)


def tidy(text):
    """Fix spacing, articles and capitals of an expanded template."""
    t = " ".join(text.split())
    for p in (",", ".", "!", "?", ";", ":", ")"):
        t = t.replace(" " + p, p)
    t = t.replace("( ", "(")
    for bad, good in ((",,", ","), (",.", "."), (".,", ","), ("?.", "?"), ("!.", "!")):
        t = t.replace(bad, good)
    t = fix_articles(t)
    out = []
    cap = True
    i = 0
    while i < len(t):
        c = t[i]
        if c == "^":
            cap = True
            i += 1
            continue
        if c == "~":
            cap = False
            i += 1
            continue
        if cap and c.isalpha():
            out.append(c.upper())
            cap = False
        else:
            if c.isalnum():
                cap = False
            out.append(c)
        if c in ".!?" and i + 1 < len(t) and t[i + 1] == " ":
            # no capital after an ellipsis inside a sentence ("Well... maybe")
            cap = not t[max(0, i - 2):i + 1] == "..."
        i += 1
    t = "".join(out)
    t = " ".join(t.split())
    if not t.isascii():
        raise ValueError("non-ASCII text: %r" % t)
    return t
