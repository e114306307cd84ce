#include "synth/sentences.h"

#include <array>

#include "core/error.h"
#include "core/hash.h"

namespace thg::synth {

namespace {

struct Words {
  std::vector<std::string> subjects, verbs, objects, endings;
};

const Words& words(const std::string& code) {
  static const std::vector<std::pair<std::string, Words>> table = {
      {"en",
       {{"The old man", "My sister", "A small boy", "Our teacher", "The baker", "Every morning she", "Peter",
         "The happy dog", "Your brother", "Nobody"},
        {"bought", "found", "painted", "carried", "opened", "watched", "borrowed", "cleaned", "remembered",
         "wanted"},
        {"a blue umbrella", "the heavy box", "seven apples", "a long letter", "the broken window",
         "some fresh bread", "the map of Paris", "a wooden boat", "my purple shoes", "the quiet garden"},
        {"yesterday.", "before lunch.", "in the rain.", "with great care.", "again and again.",
         "at the market."}}},
      {"de",
       {{"Der alte Mann", "Meine Schwester", "Ein kleiner Junge", "Unser Lehrer", "Der Bäcker", "Jeden Morgen sie",
         "Peter", "Der frohe Hund", "Dein Bruder", "Niemand"},
        {"kaufte", "fand", "malte", "trug", "öffnete", "sah", "borgte", "putzte", "vergaß", "wollte"},
        {"einen blauen Schirm", "die schwere Kiste", "sieben Äpfel", "einen langen Brief", "das kaputte Fenster",
         "frisches Brot", "die Karte von Berlin", "ein hölzernes Boot", "meine roten Schuhe", "den stillen Garten"},
        {"gestern.", "vor dem Mittag.", "im Regen.", "mit großer Sorgfalt.", "immer wieder.", "auf dem Markt."}}},
      {"fr",
       {{"Le vieil homme", "Ma sœur", "Un petit garçon", "Notre professeur", "Le boulanger", "Chaque matin elle",
         "Pierre", "Le chien joyeux", "Ton frère", "Personne"},
        {"a acheté", "a trouvé", "a peint", "a porté", "a ouvert", "a regardé", "a emprunté", "a nettoyé",
         "a oublié", "a voulu"},
        {"un parapluie bleu", "la boîte lourde", "sept pommes", "une longue lettre", "la fenêtre cassée",
         "du pain frais", "la carte de Lyon", "un bateau en bois", "mes chaussures rouges", "le jardin calme"},
        {"hier.", "avant le déjeuner.", "sous la pluie.", "avec grand soin.", "encore et encore.",
         "au marché."}}},
      {"es",
       {{"El viejo", "Mi hermana", "Un niño pequeño", "Nuestro maestro", "El panadero", "Cada mañana ella", "Pedro",
         "El perro alegre", "Tu hermano", "Nadie"},
        {"compró", "encontró", "pintó", "llevó", "abrió", "miró", "pidió", "limpió", "olvidó", "quiso"},
        {"un paraguas azul", "la caja pesada", "siete manzanas", "una carta larga", "la ventana rota",
         "pan fresco", "el mapa de Madrid", "un barco de madera", "mis zapatos rojos", "el jardín tranquilo"},
        {"ayer.", "antes de comer.", "bajo la lluvia.", "con mucho cuidado.", "una y otra vez.",
         "en el mercado."}}},
      {"it",
       {{"Il vecchio", "Mia sorella", "Un bambino", "Il nostro maestro", "Il fornaio", "Ogni mattina lei", "Pietro",
         "Il cane felice", "Tuo fratello", "Nessuno"},
        {"ha comprato", "ha trovato", "ha dipinto", "ha portato", "ha aperto", "ha guardato", "ha preso",
         "ha pulito", "ha dimenticato", "ha voluto"},
        {"un ombrello blu", "la scatola pesante", "sette mele", "una lunga lettera", "la finestra rotta",
         "il pane fresco", "la mappa di Roma", "una barca di legno", "le mie scarpe rosse", "il giardino quieto"},
        {"ieri.", "prima di pranzo.", "sotto la pioggia.", "con grande cura.", "ancora e ancora.",
         "al mercato."}}},
      {"pt",
       {{"O velho", "A minha irmã", "Um menino", "O nosso professor", "O padeiro", "Toda manhã ela", "Pedro",
         "O cão alegre", "O teu irmão", "Ninguém"},
        {"comprou", "encontrou", "pintou", "levou", "abriu", "olhou", "pediu", "limpou", "esqueceu", "quis"},
        {"um guarda-chuva azul", "a caixa pesada", "sete maçãs", "uma carta longa", "a janela partida",
         "pão fresco", "o mapa de Lisboa", "um barco de madeira", "os meus sapatos vermelhos",
         "o jardim tranquilo"},
        {"ontem.", "antes do almoço.", "debaixo da chuva.", "com muito cuidado.", "outra vez.", "no mercado."}}},
  };
  for (const auto& [c, w] : table)
    if (c == code) return w;
  throw Error::input("", "no sentences for language '" + code + "'");
}

}  // namespace

const std::vector<Language>& languages() {
  static const std::vector<Language> all = {{"en", "English"}, {"de", "German"},  {"fr", "French"},
                                            {"es", "Spanish"}, {"it", "Italian"}, {"pt", "Portuguese"}};
  return all;
}

const Language& language(const std::string& code) {
  for (const Language& l : languages())
    if (l.code == code) return l;
  std::string valid;
  for (const Language& l : languages()) valid += (valid.empty() ? "" : ", ") + l.code;
  throw Error::input("", "unknown language '" + code + "' (available: " + valid + ")");
}

int64_t sentence_count(const std::string& code) {
  const Words& w = words(code);
  return static_cast<int64_t>(w.subjects.size() * w.verbs.size() * w.objects.size() * w.endings.size());
}

std::string sentence(const std::string& code, int64_t index) {
  const Words& w = words(code);
  const int64_t n = sentence_count(code);
  int64_t i = ((index % n) + n) % n;
  auto pick = [&](const std::vector<std::string>& list) {
    const std::string& s = list[static_cast<size_t>(i % static_cast<int64_t>(list.size()))];
    i /= static_cast<int64_t>(list.size());
    return s;
  };
  const std::string subject = pick(w.subjects), verb = pick(w.verbs), object = pick(w.objects);
  return subject + " " + verb + " " + object + " " + pick(w.endings);
}

bool sentence_held_out(const std::string& code, int64_t index) {
  return Fingerprint().add(code + "#" + std::to_string(index)).value() % 10 == 0;
}

}  // namespace thg::synth
