import Foundation
import OpvangSync

/// One export file as rows of text cells, in the CSV column names of SPEC §2.
struct ExportTable {
    let name: String
    let header: [String]
    var rows: [[String]]

    func column(_ name: String) -> Int { header.firstIndex(of: name)! }
}

/// What to generate.
struct GeneratorOptions {
    var children = 150
    var seed: UInt64 = 2026
    var locations: Int?
    var groupsPerLocation = 10
    var asOf = Day(year: 2026, month: 11, day: 22)!
    var organisationID = "zonnebloem"
    var organisationName = "Kinderopvang De Zonnebloem"
    var portalURL = "https://zonnebloem.ouderportaal.example"
}

/// Builds a synthetic but realistic organisation: about 1 location per 200 children, families of 1–3
/// children with 1–2 parents, about 1.15 placements per child across every care and contract type,
/// absences, extra and swap days, a school holiday and closing days.
struct Generator {
    let options: GeneratorOptions
    var random: SeededRandom

    init(options: GeneratorOptions) {
        self.options = options
        random = SeededRandom(seed: options.seed)
    }

    static let headers: [String: [String]] = [
        "locaties.csv": ["Locatiecode", "Naam", "Adres", "Postcode", "Plaats", "Telefoon", "E-mail", "LRK-nummer"],
        "groepen.csv": ["Groepcode", "Locatiecode", "Naam", "Opvangsoort", "Capaciteit"],
        "medewerkers.csv": ["Medewerkernummer", "Voornaam", "Tussenvoegsel", "Achternaam", "E-mail", "Functie", "Groepcodes"],
        "kinderen.csv": ["Kindnummer", "Roepnaam", "Tussenvoegsel", "Achternaam", "Geboortedatum", "Geslacht", "Mentor"],
        "ouders.csv": ["Oudernummer", "Voornaam", "Tussenvoegsel", "Achternaam", "E-mail", "E-mail 2", "Telefoon", "Mobiel",
                       "Adres", "Postcode", "Plaats"],
        "relaties.csv": ["Kindnummer", "Oudernummer", "Rol"],
        "plaatsingen.csv": ["Plaatsingsnummer", "Kindnummer", "Groepcode", "Opvangsoort", "Contractsoort", "Ingangsdatum",
                            "Einddatum", "Maandag", "Dinsdag", "Woensdag", "Donderdag", "Vrijdag", "Zaterdag", "Zondag", "Weken"],
        "afwijkingen.csv": ["Kindnummer", "Groepcode", "Datum", "Soort", "Van", "Tot", "Omschrijving"],
        "kalender.csv": ["Van", "Tot", "Soort", "Locatiecode", "Omschrijving"],
    ]

    /// File order of the export, as the manifest lists it.
    static let fileOrder = ["locaties.csv", "groepen.csv", "medewerkers.csv", "kinderen.csv", "ouders.csv",
                            "relaties.csv", "plaatsingen.csv", "afwijkingen.csv", "kalender.csv"]

    struct Group {
        let code: String
        let location: String
        let careType: String
        var staff: [String] = []
    }

    static let careTypePattern = ["KDV", "KDV", "KDV", "PG", "BSO", "BSO", "VSO", "NSO", "TSO", "GO"]

    static func hours(for careType: String) -> String {
        switch careType {
        case "KDV": return "07:30-18:00"
        case "PG": return "08:30-12:30"
        case "BSO": return "14:00-18:30"
        case "NSO": return "15:00-18:00"
        case "VSO": return "07:00-08:30"
        case "TSO": return "12:00-13:00"
        default: return "08:00-17:00"
        }
    }

    mutating func generate() -> [String: ExportTable] {
        var tables = Dictionary(uniqueKeysWithValues: Generator.headers.map { ($0.key, ExportTable(name: $0.key, header: $0.value, rows: [])) })
        let asOf = options.asOf
        let locationCount = options.locations ?? max(1, (options.children + 199) / 200)
        var groups: [Group] = []
        var staffNumber = 0
        for index in 0..<locationCount {
            let code = String(format: "LOC%03d", index + 1)
            let name = Names.locations[index % Names.locations.count] + (index >= Names.locations.count ? " \(index / Names.locations.count + 1)" : "")
            let city = random.pick(Names.cities)
            tables["locaties.csv"]!.rows.append([
                code, name, "\(random.pick(Names.streets)) \(random.int(1...180))", postcode(), city,
                "030-\(random.int(1_000_000...9_999_999))", "\(code.lowercased())@\(options.organisationID).example",
                String(format: "%09d", 100_000_000 + index * 7919 % 899_999_999),
            ])
            var locationGroups: [String] = []
            for slot in 0..<options.groupsPerLocation {
                let careType = Generator.careTypePattern[(index * options.groupsPerLocation + slot) % Generator.careTypePattern.count]
                let groupCode = "\(code)-G\(String(format: "%02d", slot + 1))"
                let capacity = careType == "GO" ? 6 : (careType == "BSO" || careType == "NSO" ? 22 : (careType == "TSO" ? 30 : 16))
                tables["groepen.csv"]!.rows.append([groupCode, code, Names.groups[(index * 7 + slot) % Names.groups.count], careType, String(capacity)])
                var group = Group(code: groupCode, location: code, careType: careType)
                for _ in 0..<2 {
                    staffNumber += 1
                    let number = String(format: "M%05d", staffNumber)
                    group.staff.append(number)
                    tables["medewerkers.csv"]!.rows.append(staffRow(number, role: "Pedagogisch medewerker", groups: [groupCode]))
                }
                groups.append(group)
                locationGroups.append(groupCode)
            }
            staffNumber += 1
            tables["medewerkers.csv"]!.rows.append(staffRow(String(format: "M%05d", staffNumber), role: "Locatiemanager", groups: locationGroups))
        }

        // Groups per location, so that finding a second group stays linear in the number of children.
        let groupsAt = Dictionary(grouping: groups, by: \.location)
        var childNumber = 100_000, parentNumber = 200_000, placementNumber = 300_000
        var made = 0
        while made < options.children {
            let kids = min(options.children - made, random.chance(0.8) ? 1 : (random.chance(0.85) ? 2 : 3))
            let surname = random.pick(Names.surnames), infix = random.pick(Names.infixes)
            let street = "\(random.pick(Names.streets)) \(random.int(1...250))"
            let code = postcode(), city = random.pick(Names.cities)
            var parents: [String] = []
            let parentCount = random.chance(0.95) ? 2 : 1
            let sharedAddress = parentCount == 2 && random.chance(0.03)
            var firstEmail = ""
            for slot in 0..<parentCount {
                parentNumber += 1
                let number = String(parentNumber)
                parents.append(number)
                let firstName = random.pick(Names.adults)
                let ownSurname = slot == 0 ? surname : (random.chance(0.6) ? random.pick(Names.surnames) : surname)
                let ownInfix = slot == 0 ? infix : (ownSurname == surname ? infix : random.pick(Names.infixes))
                let mailName = "\(firstName.asciiFolded).\(ownSurname.asciiFolded).\(parentNumber)".lowercased()
                var email = "\(mailName)@\(random.pick(["example.nl", "mail.example", "ziggo.example", "kpn.example"]))"
                var email2 = random.chance(0.25) ? "\(mailName)@werk.example" : ""
                let roll = Double.random(in: 0..<1, using: &random)
                if roll < 0.05 {
                    email = "\(mailName)@gmail"          // a typo the planning system let through
                    email2 = "\(mailName)@backup.example"
                } else if roll < 0.09 {
                    email = ""
                    email2 = "\(mailName)@tweede.example"
                } else if roll < 0.12 {
                    email = ""
                    email2 = ""
                }
                if slot == 0 { firstEmail = email }
                if slot == 1, sharedAddress, !firstEmail.isEmpty { email = firstEmail.uppercased() }
                tables["ouders.csv"]!.rows.append([
                    number, firstName, ownInfix, ownSurname, email, email2,
                    random.chance(0.5) ? "030-\(random.int(1_000_000...9_999_999))" : "",
                    "06-\(random.int(10_000_000...99_999_999))", street, code, city,
                ])
            }
            for _ in 0..<kids {
                childNumber += 1
                made += 1
                let number = String(childNumber)
                var group = groups[random.int(0...(groups.count - 1))]
                if group.careType == "GO", random.chance(0.5) { group = groups[random.int(0...(groups.count - 1))] }
                let birth = birthDate(for: group.careType, asOf: asOf)
                let girl = random.chance(0.5)
                tables["kinderen.csv"]!.rows.append([
                    number, girl ? random.pick(Names.girls) : random.pick(Names.boys), infix, surname,
                    birth.dutch, girl ? "V" : "M", random.pick(group.staff),
                ])
                for (slot, parent) in parents.enumerated() {
                    tables["relaties.csv"]!.rows.append([number, parent, slot == 0 ? "Ouder 1" : (random.chance(0.97) ? "Ouder 2" : "Verzorger")])
                }
                placementNumber += 1
                let placement = placementRow(String(placementNumber), child: number, group: group, asOf: asOf)
                tables["plaatsingen.csv"]!.rows.append(placement)
                deviations(for: placement, group: group, asOf: asOf, into: &tables["afwijkingen.csv"]!)
                if random.chance(0.15) {
                    placementNumber += 1
                    let school = ["BSO", "VSO", "NSO", "TSO"].contains(group.careType)
                    let candidates = (groupsAt[group.location] ?? []).filter { $0.code != group.code
                        && (school ? ["BSO", "VSO", "NSO", "TSO"].contains($0.careType) : ["KDV", "PG"].contains($0.careType)) }
                    if let other = candidates.isEmpty ? nil : random.pick(candidates), random.chance(0.5) {
                        tables["plaatsingen.csv"]!.rows.append(placementRow(String(placementNumber), child: number, group: other, asOf: asOf))
                    } else {
                        // An earlier placement that has ended: history the portal keeps.
                        var row = placementRow(String(placementNumber), child: number, group: group, asOf: asOf)
                        let end = asOf.adding(days: -random.int(30...400))
                        row[5] = end.adding(days: -random.int(100...700)).dutch
                        row[6] = end.dutch
                        tables["plaatsingen.csv"]!.rows.append(row)
                    }
                }
            }
        }

        let calendar = "kalender.csv"
        tables[calendar]!.rows.append(["17-10-2026", "25-10-2026", "Schoolvakantie", "", "Herfstvakantie regio midden"])
        tables[calendar]!.rows.append(["19-12-2026", "03-01-2027", "Schoolvakantie", "", "Kerstvakantie"])
        tables[calendar]!.rows.append(["20-02-2027", "28-02-2027", "Schoolvakantie", "", "Voorjaarsvakantie regio midden"])
        tables[calendar]!.rows.append(["07-12-2026", "07-12-2026", "Sluitingsdag", "LOC001", "Studiedag team"])
        tables[calendar]!.rows.append(["31-12-2026", "31-12-2026", "Sluitingsdag", "", "Oudejaarsdag: alle locaties dicht"])
        return tables
    }

    private mutating func staffRow(_ number: String, role: String, groups: [String]) -> [String] {
        let first = random.pick(Names.adults), last = random.pick(Names.surnames)
        return [number, first, random.pick(Names.infixes), last,
                "\(first.asciiFolded.lowercased()).\(number.lowercased())@\(options.organisationID).example", role,
                groups.joined(separator: "|")]
    }

    private mutating func postcode() -> String {
        let letters = Array("ABCDEGHJKLMNPRSTVWXZ")
        return "\(random.int(1000...9999)) \(random.pick(letters))\(random.pick(letters))"
    }

    private mutating func birthDate(for careType: String, asOf: Day) -> Day {
        switch careType {
        case "KDV": return asOf.adding(days: -random.int(90...(4 * 365 - 30)))
        case "PG": return asOf.adding(days: -random.int((2 * 365 + 10)...(4 * 365 - 30)))
        case "GO": return asOf.adding(days: -random.int(120...(10 * 365)))
        default: return asOf.adding(days: -random.int((4 * 365 + 30)...(12 * 365 - 30)))
        }
    }

    private mutating func placementRow(_ number: String, child: String, group: Group, asOf: Day) -> [String] {
        let school = ["BSO", "VSO", "NSO", "TSO"].contains(group.careType)
        let roll = Double.random(in: 0..<1, using: &random)
        let contract: String
        if group.careType == "GO" {
            contract = "52 weken"
        } else if school {
            contract = roll < 0.55 ? "Schoolweken" : (roll < 0.85 ? "52 weken" : (roll < 0.95 ? "Vakantie" : "Flexibel"))
        } else {
            contract = roll < 0.85 ? "52 weken" : (roll < 0.95 ? "Flexibel" : "Schoolweken")
        }
        let startRoll = Double.random(in: 0..<1, using: &random)
        var start = asOf.adding(days: -random.int(30...1000))
        var end = ""
        if startRoll < 0.06 {
            start = asOf.adding(days: random.int(1...40))          // starts within the invitation window
        } else if startRoll < 0.10 {
            start = asOf.adding(days: random.int(43...120))        // starts later: no account yet
        } else if startRoll < 0.15 {
            end = asOf.adding(days: random.int(1...27)).dutch      // ends inside the attendance horizon
        } else if startRoll < 0.17 {
            let ended = asOf.adding(days: -random.int(1...60))     // ended recently
            start = ended.adding(days: -random.int(60...700))
            end = ended.dutch
        }
        var days = Array(repeating: "", count: 7)
        let hours = Generator.hours(for: group.careType)
        if contract == "Vakantie" {
            for day in 0..<5 { days[day] = "08:00-18:00" }
        } else if contract != "Flexibel" {
            let count = random.int(1...(group.careType == "TSO" ? 5 : 4))
            var chosen = Set<Int>()
            while chosen.count < count { chosen.insert(random.int(0...4)) }
            for day in chosen { days[day] = hours }
            if group.careType == "GO", random.chance(0.2) { days[5] = "09:00-13:00" }
        }
        let weeksRoll = Double.random(in: 0..<1, using: &random)
        let weeks = weeksRoll < 0.05 ? "even" : (weeksRoll < 0.10 ? "oneven" : (weeksRoll < 0.55 ? "alle" : ""))
        return [number, child, group.code, group.careType, contract, start.dutch, end] + days + [weeks]
    }

    private mutating func deviations(for placement: [String], group: Group, asOf: Day, into table: inout ExportTable) {
        let child = placement[1]
        let contract = placement[4]
        let comingDays = (1...27).map { asOf.adding(days: $0) }.filter { day in
            day.isoWeekday <= 5 && !placement[6 + day.isoWeekday].isEmpty
        }
        if contract == "Flexibel" {
            for day in Set((0..<random.int(2...4)).map { _ in asOf.adding(days: random.int(1...27)) }).sorted() where day.isoWeekday <= 5 {
                let hours = Generator.hours(for: group.careType).split(separator: "-").map(String.init)
                table.rows.append([child, group.code, day.dutch, "Extra dag", hours[0], hours[1], "Flexibele dag, aangevraagd via de OuderApp"])
            }
            return
        }
        if let day = comingDays.isEmpty ? nil : random.pick(comingDays), random.chance(0.10) {
            let reason = random.pick(["ziek", "vakantie", "ziek; \"waterpokken\"", "bij opa en oma", "tandarts\r\nhaalt om 15:00 op"])
            table.rows.append([child, group.code, day.dutch, "Afwezig", "", "", reason])
        }
        if random.chance(0.04) {
            let day = asOf.adding(days: random.int(1...27))
            if day.isoWeekday <= 5 {
                let hours = Generator.hours(for: group.careType).split(separator: "-").map(String.init)
                table.rows.append([child, group.code, day.dutch, random.chance(0.5) ? "Extra dag" : "Ruildag", hours[0], hours[1], ""])
            }
        }
    }

    /// The night after: about 1% of the records changed, added or ended.
    mutating func nextNight(_ tables: inout [String: ExportTable]) {
        let asOf = options.asOf.adding(days: 1)
        var parents = tables["ouders.csv"]!
        for index in parents.rows.indices where random.chance(0.004) {
            parents.rows[index][7] = "06-\(random.int(10_000_000...99_999_999))"
        }
        for index in parents.rows.indices where random.chance(0.002) {
            parents.rows[index][8] = "\(random.pick(Names.streets)) \(random.int(1...250))"
        }
        tables["ouders.csv"] = parents
        var placements = tables["plaatsingen.csv"]!
        for index in placements.rows.indices where placements.rows[index][6].isEmpty && random.chance(0.004) {
            // Only a placement that has started can be given an end date (one after its start).
            guard let start = DatePattern.dutch.parse(placements.rows[index][5]), start <= asOf else { continue }
            placements.rows[index][6] = asOf.adding(days: random.int(10...60)).dutch
        }
        for index in placements.rows.indices where random.chance(0.002) {
            placements.rows[index][7 + random.int(0...4)] = Generator.hours(for: placements.rows[index][3])
        }
        tables["plaatsingen.csv"] = placements
        // New families: 0.3% more children with their parents and placements.
        let groups = tables["groepen.csv"]!.rows
        let staff = tables["medewerkers.csv"]!.rows.map { $0[0] }
        let newChildren = max(1, options.children * 3 / 1000)
        for offset in 0..<newChildren {
            // Numbers far above any the base export hands out, at every size up to the whole market.
            let child = String(8_000_000 + offset), parent = String(8_500_000 + offset), placement = String(9_000_000 + offset)
            let groupRow = random.pick(groups)
            let group = Group(code: groupRow[0], location: groupRow[1], careType: groupRow[3], staff: [random.pick(staff)])
            let surname = random.pick(Names.surnames)
            tables["kinderen.csv"]!.rows.append([child, random.pick(Names.girls + Names.boys), "", surname,
                                                 birthDate(for: group.careType, asOf: asOf).dutch, "", group.staff[0]])
            tables["ouders.csv"]!.rows.append([parent, random.pick(Names.adults), "", surname, "nieuw\(parent)@example.nl", "",
                                               "", "06-\(random.int(10_000_000...99_999_999))", "Nieuwe Weg 1", "3500 AA", "Utrecht"])
            tables["relaties.csv"]!.rows.append([child, parent, "Ouder 1"])
            tables["plaatsingen.csv"]!.rows.append(placementRow(placement, child: child, group: group, asOf: asOf))
        }
    }
}

extension String {
    /// Letters without diacritics, for e-mail addresses (`Zoë` → `Zoe`).
    var asciiFolded: String {
        let folded = folding(options: [.diacriticInsensitive], locale: nil)
        return String(folded.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || $0 == "-") }.map(Character.init))
    }
}
