// The text the model learns: English-like sentences from a small hand-written grammar whose word
// choices follow fixed, seeded preferences (which verbs a noun does, which nouns a verb takes),
// so that the previous words say a lot about the next one and a unigram model is far from the
// best possible.

/// A toy language: word lists, grammar rules and, drawn once from `languageSeed`, each word's
/// preferred companions. ``document(_:)`` writes one paragraph of it as plain text.
struct Grammar {
    static let nouns = """
        dog cat bird horse fox rabbit otter owl bear lion tiger camel donkey goat lamb cow pig duck swan \
        frog snake whale shark crab seal eagle hawk crow bee ant spider farmer baker doctor teacher \
        student pilot sailor soldier king queen prince princess knight wizard witch giant dragon robot \
        cousin girl boy lady uncle neighbor stranger friend captain miner painter singer dancer poet \
        merchant rogue guard judge monk nurse cook driver river mountain forest garden village city \
        castle tower bridge road house barn field lake ocean island desert valley cave hill meadow \
        market school church library kitchen window door table chair bed lamp book letter map key \
        coin ring sword shield boat ship wagon cart basket bottle cup plate bowl candle clock bell \
        drum flute song story secret dream storm cloud star moon sun tree flower stone apple bread \
        cake cheese soup egg carrot pepper onion lemon
        """
    static let adjectives = """
        big small old young tall short quick slow bright dark happy sad angry calm brave shy loud \
        quiet clever foolish kind cruel rich poor strong weak gentle wild tame warm cold hot wet dry \
        clean dirty heavy light empty full sharp soft hard smooth rough sweet bitter fresh stale \
        golden silver wooden broken hidden ancient strange famous lonely hungry sleepy curious proud \
        green red blue
        """
    static let verbs = """
        see find watch follow chase catch help meet visit greet carry push pull lift drop throw \
        build paint draw read write open close fix break clean wash cook bake eat drink buy sell \
        steal hide seek keep guard save love hate fear trust call answer teach learn know remember \
        forget bring send take leave climb cross reach touch hold feed ride sail burn cut fill \
        empty count weigh measure hear smell taste admire praise blame
        """
    static let names = """
        Anna Ben Clara David Ella Frank Grace Henry Iris Jack Kate Leo Mia Noah Olivia Paul Rose Sam \
        Tess Victor Wendy Zoe Arthur Bella Oscar Ruby Felix Hugo Nina Ivy
        """
    static let adverbs = """
        quickly slowly often rarely never always quietly loudly gladly sadly carefully suddenly \
        finally almost nearly seldom eagerly calmly boldly softly
        """
    static let prepositions = """
        in on near under behind beside with without across through over around inside beyond along
        """
    static let singularDeterminers = ["the", "a", "this", "that", "every", "one", "my", "your", "his", "her", "our"]
    static let pluralDeterminers = ["the", "these", "those", "some", "many", "few", "two", "three", "my", "our"]
    static let modals = ["will", "can", "must", "might", "should"]
    static let conjunctions = ["and", "but", "because", "while", "so"]

    let nouns: [String], plurals: [String], adjectives: [String], verbs: [String], thirdPerson: [String]
    let names: [String], adverbs: [String], prepositions: [String]
    /// How often each noun is a subject, each name, determiner, … is used: Zipf's law, as in real
    /// text (the subjects' ranks drawn from the language seed, the small lists' ranks as written).
    let subjects: Zipf, nameFrequency: Zipf, adverbFrequency: Zipf
    let singularDeterminerFrequency = Zipf(Self.singularDeterminers.count)
    let pluralDeterminerFrequency = Zipf(Self.pluralDeterminers.count)
    let modalFrequency = Zipf(Self.modals.count), conjunctionFrequency = Zipf(Self.conjunctions.count)
    /// Preferences drawn once from the language seed: indices into the lists above.
    let nounAdjectives: [[Int]], nounVerbs: [[Int]], nameVerbs: [[Int]], verbObjects: [[Int]]
    let prepositionNouns: [[Int]], verbPrepositions: [[Int]]

    /// How often a word follows its preferences rather than the whole list.
    static let loyalty: Float = 0.85

    init(languageSeed: UInt64) {
        func words(_ list: String) -> [String] { list.split(separator: " ").map(String.init) }
        nouns = words(Self.nouns)
        plurals = nouns.map(Self.withS)
        adjectives = words(Self.adjectives)
        verbs = words(Self.verbs)
        thirdPerson = verbs.map(Self.withS)
        names = words(Self.names)
        adverbs = words(Self.adverbs)
        prepositions = words(Self.prepositions)
        var rng = SplitMix64(seed: languageSeed)
        let (n, a, v, p) = (nouns.count, adjectives.count, verbs.count, prepositions.count)
        nounAdjectives = (0..<n).map { _ in rng.distinct(3, below: a) }
        nounVerbs = (0..<n).map { _ in rng.distinct(4, below: v) }
        nameVerbs = names.map { _ in rng.distinct(4, below: v) }
        verbObjects = (0..<v).map { _ in rng.distinct(6, below: n) }
        prepositionNouns = (0..<p).map { _ in rng.distinct(5, below: n) }
        verbPrepositions = (0..<v).map { _ in rng.distinct(2, below: p) }
        var ranking = Array(0..<n)
        rng.shuffle(&ranking)
        subjects = Zipf(n, ranking: ranking)
        nameFrequency = Zipf(names.count)
        adverbFrequency = Zipf(adverbs.count)
    }

    /// English's regular `-s`: plural nouns and third-person verbs (the lists avoid irregular ones).
    static func withS(_ word: String) -> String {
        if ["s", "x", "z", "ch", "sh"].contains(where: { word.hasSuffix($0) }) { return word + "es" }
        if word.hasSuffix("y"), let before = word.dropLast().last, !"aeiou".contains(before) {
            return word.dropLast() + "ies"
        }
        return word + "s"
    }

    /// One paragraph of 3–8 sentences, words and punctuation separated by spaces.
    func document(_ rng: inout SplitMix64) -> String {
        var words: [String] = []
        for _ in 0..<(3 + rng.next(below: 6)) {
            clause(&rng, into: &words)
            if rng.chance(0.25) {
                words += [",", Self.conjunctions[conjunctionFrequency.sample(&rng)]]
                clause(&rng, into: &words)
            }
            words.append(".")
        }
        return words.joined(separator: " ")
    }

    /// A preferred index with probability ``loyalty``, else any of `0 ..< count`.
    private func choose(_ preferred: [Int], count: Int, _ rng: inout SplitMix64) -> Int {
        rng.chance(Self.loyalty) ? rng.pick(preferred) : rng.next(below: count)
    }

    /// Subject, verb (agreeing, or after a modal), object and maybe a prepositional phrase.
    private func clause(_ rng: inout SplitMix64, into words: inout [String]) {
        let verbChoices: [Int]
        var plural = false
        if rng.chance(0.2) {
            let name = nameFrequency.sample(&rng)
            words.append(names[name])
            verbChoices = nameVerbs[name]
        } else {
            plural = rng.chance(0.4)
            let noun = subjects.sample(&rng)
            nounPhrase(noun, plural: plural, &rng, into: &words)
            verbChoices = nounVerbs[noun]
        }
        if rng.chance(0.15) { words.append(adverbs[adverbFrequency.sample(&rng)]) }
        let verb = choose(verbChoices, count: verbs.count, &rng)
        if rng.chance(0.15) {
            words += [Self.modals[modalFrequency.sample(&rng)], verbs[verb]]
        } else {
            words.append(plural ? verbs[verb] : thirdPerson[verb])
        }
        nounPhrase(choose(verbObjects[verb], count: nouns.count, &rng), plural: rng.chance(0.4), &rng, into: &words)
        if rng.chance(0.3) {
            let preposition = choose(verbPrepositions[verb], count: prepositions.count, &rng)
            words.append(prepositions[preposition])
            let noun = choose(prepositionNouns[preposition], count: nouns.count, &rng)
            nounPhrase(noun, plural: rng.chance(0.4), &rng, into: &words)
        }
    }

    /// Determiner, maybe an adjective (mostly one the noun prefers), the noun.
    private func nounPhrase(_ noun: Int, plural: Bool, _ rng: inout SplitMix64, into words: inout [String]) {
        words.append(
            plural
                ? Self.pluralDeterminers[pluralDeterminerFrequency.sample(&rng)]
                : Self.singularDeterminers[singularDeterminerFrequency.sample(&rng)])
        if rng.chance(0.4) { words.append(adjectives[choose(nounAdjectives[noun], count: adjectives.count, &rng)]) }
        words.append(plural ? plurals[noun] : nouns[noun])
    }
}

/// Zipf's law with exponent 1 over `count` items: the item of rank r (from 1) has probability
/// ∝ 1/r. Sampled by a search in the cumulative sums (plain arithmetic, so the same everywhere).
struct Zipf {
    private let cumulative: [Double]
    private let ranking: [Int]

    /// `ranking[r]` is the item of rank r + 1 (by default, the items in order).
    init(_ count: Int, ranking: [Int]? = nil) {
        var total = 0.0
        cumulative = (1...count).map { rank in
            total += 1 / Double(rank)
            return total
        }
        self.ranking = ranking ?? Array(0..<count)
    }

    func sample(_ rng: inout SplitMix64) -> Int {
        let u = Double(rng.unit()) * cumulative[cumulative.count - 1]
        var low = 0, high = cumulative.count - 1
        while low < high {  // the first rank whose cumulative sum exceeds u
            let middle = (low + high) / 2
            if cumulative[middle] > u { high = middle } else { low = middle + 1 }
        }
        return ranking[low]
    }
}
