/// Dutch first names, infixes and surnames, all encodable in Windows-1252 (diacritics included).
enum Names {
    static let girls = ["Emma", "Julia", "Zoë", "Sophie", "Noëlle", "Tess", "Anaïs", "Fenna", "Saar", "Lotte",
                        "Chloë", "Renée", "Inés", "Mila", "Yara", "Nora", "Liv", "Maëlle", "Eline", "Hélène",
                        "Fleur", "Isa", "Lieke", "Roos", "Amélie", "Jasmijn", "Sára", "Noor", "Zeynep", "Mirthe"]
    static let boys = ["Daan", "Sem", "Noël", "Luuk", "Bram", "Thijs", "Jesse", "Finn", "Björn", "Joël",
                       "Levi", "Mohamed", "Ruben", "Teun", "Stijn", "Hugo", "Raphaël", "Mees", "José", "Gijs",
                       "Siem", "Otis", "Sven", "Jurriën", "Daniël", "Ömer", "Boaz", "Milan", "Thomas", "Ezra"]
    static let adults = ["Anne", "Marieke", "Sanne", "Inge", "Esther", "Linda", "Petra", "Ingrid", "Mariëlle",
                         "Chantal", "Aylin", "Fatima", "Judith", "Karin", "Monique", "Mark", "Jeroen", "Bas",
                         "Rob", "Erik", "Martijn", "Sjoerd", "Youssef", "René", "André", "Frédéric", "Joost",
                         "Pieter", "Wouter", "Kees", "Jörg", "Dirk", "Niels", "Tijmen", "Hüseyin", "Gerrit"]
    static let infixes = ["", "", "", "", "", "", "de", "van", "van der", "van den", "van de", "ter", "'t", "den", "in 't", "van 't"]
    static let surnames = ["Jong", "Vries", "Berg", "Dijk", "Bakker", "Janssen", "Visser", "Smit", "Meijer", "Mulder",
                           "Bos", "Vos", "Peters", "Hendriks", "Dekker", "Brouwer", "Wit", "Dijkstra", "Koç", "Öztürk",
                           "Müller", "Groot", "Bruijn", "Graaf", "Wijk", "Hoek", "Kok", "Jacobs", "Willems", "Schouten",
                           "Vermeulen", "Veen", "Laan", "Haan", "Sedney", "Bouzid", "Çelik", "Nguyen",
                           "Postma", "Hoekstra", "Kuipers", "Zwart", "Jansen", "Maas", "Boer", "Verhoeven", "Heijden", "Coskun"]
    static let streets = ["Kerkstraat", "Dorpsstraat", "Molenweg", "Schoolstraat", "Julianalaan", "Beatrixstraat",
                          "Ds. van Dijkweg", "Prinses Irenestraat", "Zonnebloemstraat", "Gerbrandystraat", "Hoofdstraat",
                          "Rue de l'Église", "'s-Gravendijckseweg", "Lindenlaan", "Eikenlaan", "Vijverhof"]
    static let cities = ["Utrecht", "Houten", "Nieuwegein", "Zeist", "De Bilt", "IJsselstein", "Bunnik", "'s-Hertogenbosch"]
    static let locations = ["De Zonnebloem", "Het Kabouterhuis", "Villa Kakelbont", "De Boomhut", "Kindcentrum Noorderlicht",
                            "De Speeldoos", "Het Ravottersnest", "Kinderhuis Île", "De Vlinder", "Op Stap"]
    static let groups = ["Egeltjes", "Vlindertjes", "Kikkers", "Uilen", "Dolfijnen", "Bijtjes", "Zeesterren", "Eekhoorns",
                         "Lieveheersbeestjes", "Pinguïns", "Giraffen", "Muisjes", "Vossen", "Schildpadden", "Bevers",
                         "Zwaluwen", "Konijntjes", "Otters", "Reeën", "Mereltjes"]
}
