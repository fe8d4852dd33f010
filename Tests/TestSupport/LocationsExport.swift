import Foundation

extension MiniExport {
    /// An organisation of `locations` locations (`L01`, `L02`, …), each alike: groups `Lnn-G1` (KDV) and
    /// `Lnn-G2` (BSO), staff member `Mnn` in both, and `children` families of one child (`Knnii`), one
    /// parent (`Onnii`, `ouder.Knnii@example.nl`) and one placement (`Pnnii`, in G1, Monday to Friday) that
    /// started on 1 September 2025; an absence of the first child on 24 November 2026 and a closing day of
    /// the location. Every location holds the same share of every file.
    public static func locations(_ locations: Int, children: Int = 5) -> MiniExport {
        var export = MiniExport()
        export.organisation = "keten"
        export.organisationName = "Kinderopvang De Keten"
        export.portalURL = "https://keten.example"
        var files: [String: [String]] = [
            "locaties.csv": ["Locatiecode;Naam"],
            "groepen.csv": ["Groepcode;Locatiecode;Naam;Opvangsoort;Capaciteit"],
            "medewerkers.csv": ["Medewerkernummer;Voornaam;Achternaam;Groepcodes"],
            "kinderen.csv": ["Kindnummer;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;Mentor"],
            "ouders.csv": ["Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2"],
            "relaties.csv": ["Kindnummer;Oudernummer;Rol"],
            "plaatsingen.csv": ["Plaatsingsnummer;Kindnummer;Groepcode;Opvangsoort;Contractsoort;Ingangsdatum;Einddatum;Maandag;Dinsdag;Woensdag;Donderdag;Vrijdag;Weken"],
            "afwijkingen.csv": ["Kindnummer;Groepcode;Datum;Soort;Van;Tot;Omschrijving"],
            "kalender.csv": ["Van;Tot;Soort;Locatiecode;Omschrijving"],
        ]
        for number in 1...locations {
            let location = String(format: "L%02d", number)
            let digits = String(format: "%02d", number)
            files["locaties.csv"]!.append("\(location);Locatie \(digits)")
            files["groepen.csv"]! += ["\(location)-G1;\(location);Egeltjes \(digits);KDV;12", "\(location)-G2;\(location);Uilen \(digits);BSO;20"]
            files["medewerkers.csv"]!.append("M\(digits);Anne;Bakker \(digits);\(location)-G1|\(location)-G2")
            for child in 1...children {
                let id = String(format: "%02d%02d", number, child)
                files["kinderen.csv"]!.append("K\(id);Kind;;Achternaam \(id);03-02-2024;M\(digits)")
                files["ouders.csv"]!.append("O\(id);Ouder;Achternaam \(id);ouder.k\(id)@example.nl;")
                files["relaties.csv"]!.append("K\(id);O\(id);Ouder 1")
                files["plaatsingen.csv"]!.append(
                    "P\(id);K\(id);\(location)-G1;KDV;52 weken;01-09-2025;;07:30-18:00;07:30-18:00;07:30-18:00;07:30-18:00;07:30-13:00;")
            }
            files["afwijkingen.csv"]!.append("K\(digits)01;\(location)-G1;24-11-2026;Afwezig;;;ziek")
            files["kalender.csv"]!.append("07-12-2026;07-12-2026;Sluitingsdag;\(location);Studiedag \(digits)")
        }
        export.files = files
        return export
    }

    /// Drops the rows of `file` that `matches` selects.
    public mutating func remove(from file: String, where matches: (String) -> Bool) {
        guard let rows = files[file], let header = rows.first else { return }
        files[file] = [header] + rows.dropFirst().filter { !matches($0) }
    }

    /// Writes the export as made on the night before `asOf`, into a fresh folder under `folder`.
    public func night(_ asOf: String, in folder: URL) throws -> URL {
        var copy = self
        copy.exportedAt = "\(asOf)T01:00:00+01:00"
        return try copy.write(to: folder.appendingPathComponent("export-\(asOf)-\(UUID().uuidString)"))
    }
}
