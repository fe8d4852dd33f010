/// The mappings opvangsync ships, embedded so that the binary works from any folder without files beside it.
///
/// `mappings/*.json` in the repository are the same text (a test keeps them equal); a file at that
/// relative path in the working folder wins over the embedded copy.
public struct BuiltInMapping: Sendable {
    /// Where the file version lives, relative to the working folder.
    public let path: String
    public let text: String

    /// Parses the embedded text; it is checked by the tests, so a failure here is a build defect.
    public func mapping() throws(Mapping.Failure) -> Mapping {
        let root: JSONNode
        do {
            root = try JSONParser.parse(Array(text.utf8))
        } catch {
            throw Mapping.Failure(path: "(built-in) " + path, key: nil, reason: "invalid JSON: \(error.reason)")
        }
        return try Mapping(root: root, path: path)
    }

    public static let all = [flexkidsCSV, flexkidsJSON]

    public static let flexkidsCSV = BuiltInMapping(path: "mappings/flexkids-csv.json", text: #"""
{
  "name": "Flexkids CSV-export (standaard)",
  "description": "The default planning-system export of SPEC section 2: one semicolon-separated CSV file per entity and manifest.json.",
  "format": "csv",
  "delimiter": ";",
  "encoding": "auto",
  "dateFormat": "dd-mm-jjjj",
  "listSeparator": "|",
  "manifest": "manifest.json",
  "entities": {
    "location": {
      "file": "locaties.csv",
      "fields": {
        "code": "Locatiecode", "name": "Naam", "address": "Adres", "postcode": "Postcode", "city": "Plaats",
        "phone": "Telefoon", "email": "E-mail", "lrkNumber": "LRK-nummer"
      }
    },
    "group": {
      "file": "groepen.csv",
      "fields": {
        "code": "Groepcode", "locationCode": "Locatiecode", "name": "Naam", "careType": "Opvangsoort",
        "capacity": "Capaciteit"
      }
    },
    "staff": {
      "file": "medewerkers.csv",
      "fields": {
        "number": "Medewerkernummer", "firstName": "Voornaam", "infix": "Tussenvoegsel", "lastName": "Achternaam",
        "email": "E-mail", "role": "Functie", "groupCodes": "Groepcodes"
      }
    },
    "child": {
      "file": "kinderen.csv",
      "fields": {
        "number": "Kindnummer", "firstName": "Roepnaam", "infix": "Tussenvoegsel", "lastName": "Achternaam",
        "birthDate": "Geboortedatum", "gender": "Geslacht", "mentor": "Mentor"
      }
    },
    "parent": {
      "file": "ouders.csv",
      "fields": {
        "number": "Oudernummer", "firstName": "Voornaam", "infix": "Tussenvoegsel", "lastName": "Achternaam",
        "email": "E-mail", "email2": "E-mail 2", "phone": "Telefoon", "mobile": "Mobiel", "address": "Adres",
        "postcode": "Postcode", "city": "Plaats"
      }
    },
    "relation": {
      "file": "relaties.csv",
      "fields": { "childNumber": "Kindnummer", "parentNumber": "Oudernummer", "role": "Rol" }
    },
    "placement": {
      "file": "plaatsingen.csv",
      "fields": {
        "number": "Plaatsingsnummer", "childNumber": "Kindnummer", "groupCode": "Groepcode", "careType": "Opvangsoort",
        "contractType": "Contractsoort", "startDate": "Ingangsdatum", "endDate": "Einddatum",
        "monday": "Maandag", "tuesday": "Dinsdag", "wednesday": "Woensdag", "thursday": "Donderdag",
        "friday": "Vrijdag", "saturday": "Zaterdag", "sunday": "Zondag", "weeks": "Weken"
      }
    },
    "deviation": {
      "file": "afwijkingen.csv",
      "fields": {
        "childNumber": "Kindnummer", "groupCode": "Groepcode", "date": "Datum", "kind": "Soort", "from": "Van",
        "to": "Tot", "description": "Omschrijving"
      }
    },
    "calendar": {
      "file": "kalender.csv",
      "fields": { "from": "Van", "to": "Tot", "kind": "Soort", "locationCode": "Locatiecode", "description": "Omschrijving" }
    }
  },
  "codes": {
    "careType": {
      "Dagopvang": "KDV", "Kinderdagverblijf": "KDV", "Peuteropvang": "PG", "Peutergroep": "PG",
      "Buitenschoolse opvang": "BSO", "Voorschoolse opvang": "VSO", "Naschoolse opvang": "NSO",
      "Tussenschoolse opvang": "TSO", "Gastouderopvang": "GO"
    },
    "contractType": {
      "52-weken": "52 weken", "52 wkn": "52 weken", "40 weken": "Schoolweken", "40-weken": "Schoolweken",
      "Vakantieopvang": "Vakantie", "Flex": "Flexibel"
    },
    "role": { "Ouder1": "Ouder 1", "Ouder2": "Ouder 2" },
    "deviationKind": { "Ziek": "Afwezig", "Extra": "Extra dag", "Ruil": "Ruildag" },
    "weeks": { "Elke week": "alle", "Even weken": "even", "Oneven weken": "oneven" },
    "gender": { "Jongen": "M", "Man": "M", "Meisje": "V", "Vrouw": "V", "Onbekend": "X", "O": "X", "Anders": "X" }
  }
}

"""#)

    public static let flexkidsJSON = BuiltInMapping(path: "mappings/flexkids-json.json", text: #"""
{
  "name": "Flexkids JSON-export",
  "description": "The JSON variant of SPEC section 2: every record in export.json, the manifest under its manifest key, ISO dates.",
  "format": "json",
  "file": "export.json",
  "manifest": "manifest",
  "encoding": "utf-8",
  "dateFormat": "jjjj-mm-dd",
  "listSeparator": "|",
  "entities": {
    "location": {
      "key": "locations",
      "fields": {
        "code": "locatiecode", "name": "naam", "address": "adres", "postcode": "postcode", "city": "plaats",
        "phone": "telefoon", "email": "email", "lrkNumber": "lrkNummer"
      }
    },
    "group": {
      "key": "groups",
      "fields": {
        "code": "groepcode", "locationCode": "locatiecode", "name": "naam", "careType": "opvangsoort",
        "capacity": "capaciteit"
      }
    },
    "staff": {
      "key": "staff",
      "fields": {
        "number": "medewerkernummer", "firstName": "voornaam", "infix": "tussenvoegsel", "lastName": "achternaam",
        "email": "email", "role": "functie", "groupCodes": "groepcodes"
      }
    },
    "child": {
      "key": "children",
      "fields": {
        "number": "kindnummer", "firstName": "roepnaam", "infix": "tussenvoegsel", "lastName": "achternaam",
        "birthDate": "geboortedatum", "gender": "geslacht", "mentor": "mentor"
      }
    },
    "parent": {
      "key": "parents",
      "fields": {
        "number": "oudernummer", "firstName": "voornaam", "infix": "tussenvoegsel", "lastName": "achternaam",
        "email": "email", "email2": "email2", "phone": "telefoon", "mobile": "mobiel", "address": "adres",
        "postcode": "postcode", "city": "plaats"
      }
    },
    "relation": {
      "key": "relations",
      "fields": { "childNumber": "kindnummer", "parentNumber": "oudernummer", "role": "rol" }
    },
    "placement": {
      "key": "placements",
      "fields": {
        "number": "plaatsingsnummer", "childNumber": "kindnummer", "groupCode": "groepcode", "careType": "opvangsoort",
        "contractType": "contractsoort", "startDate": "ingangsdatum", "endDate": "einddatum",
        "monday": "maandag", "tuesday": "dinsdag", "wednesday": "woensdag", "thursday": "donderdag",
        "friday": "vrijdag", "saturday": "zaterdag", "sunday": "zondag", "weeks": "weken"
      }
    },
    "deviation": {
      "key": "deviations",
      "fields": {
        "childNumber": "kindnummer", "groupCode": "groepcode", "date": "datum", "kind": "soort", "from": "van",
        "to": "tot", "description": "omschrijving"
      }
    },
    "calendar": {
      "key": "calendar",
      "fields": { "from": "van", "to": "tot", "kind": "soort", "locationCode": "locatiecode", "description": "omschrijving" }
    }
  }
}

"""#)
}
