/**
 * The simulated models' "training data": capital cities. Each entry also names a decoy, the city
 * a confused model plausibly says instead (usually the country's best-known non-capital city), so
 * wrong answers look like real mistakes rather than noise.
 */

/** One fact the simulated models know. */
export interface CapitalFact {
  /** Display name, as used in answers ("the United States"). */
  country: string;
  /** Lower-case ways a prompt may name the country, matched on word boundaries. */
  aliases: readonly string[];
  capital: string;
  /** A plausible wrong answer. */
  decoy: string;
}

const fact = (country: string, capital: string, decoy: string, ...aliases: string[]): CapitalFact => ({
  country,
  capital,
  decoy,
  aliases: [country.toLowerCase().replace(/^the\s+/, ""), ...aliases],
});

/** Every capital the simulated models know. */
export const CAPITALS: readonly CapitalFact[] = [
  fact("Australia", "Canberra", "Sydney"),
  fact("Canada", "Ottawa", "Toronto"),
  fact("Brazil", "Brasília", "Rio de Janeiro", "brasil"),
  fact("Turkey", "Ankara", "Istanbul", "türkiye", "turkiye"),
  fact("Switzerland", "Bern", "Zurich"),
  fact("the United States", "Washington, D.C.", "New York City", "united states of america", "usa", "the us"),
  fact("Nigeria", "Abuja", "Lagos"),
  fact("Pakistan", "Islamabad", "Karachi"),
  fact("New Zealand", "Wellington", "Auckland"),
  fact("South Africa", "Pretoria", "Johannesburg"),
  fact("Morocco", "Rabat", "Casablanca"),
  fact("Vietnam", "Hanoi", "Ho Chi Minh City", "viet nam"),
  fact("India", "New Delhi", "Mumbai"),
  fact("Japan", "Tokyo", "Kyoto"),
  fact("China", "Beijing", "Shanghai"),
  fact("Germany", "Berlin", "Munich"),
  fact("France", "Paris", "Lyon"),
  fact("Italy", "Rome", "Milan"),
  fact("Spain", "Madrid", "Barcelona"),
  fact("Portugal", "Lisbon", "Porto"),
  fact("the Netherlands", "Amsterdam", "Rotterdam", "holland"),
  fact("Egypt", "Cairo", "Alexandria"),
  fact("Kenya", "Nairobi", "Mombasa"),
  fact("Argentina", "Buenos Aires", "Córdoba"),
  fact("Chile", "Santiago", "Valparaíso"),
  fact("Peru", "Lima", "Cusco"),
  fact("Colombia", "Bogotá", "Medellín"),
  fact("Mexico", "Mexico City", "Guadalajara"),
  fact("South Korea", "Seoul", "Busan", "republic of korea"),
  fact("Thailand", "Bangkok", "Chiang Mai"),
  fact("Indonesia", "Jakarta", "Surabaya"),
  fact("Norway", "Oslo", "Bergen"),
  fact("Sweden", "Stockholm", "Gothenburg"),
  fact("Finland", "Helsinki", "Tampere"),
  fact("Poland", "Warsaw", "Kraków"),
  fact("Scotland", "Edinburgh", "Glasgow"),
  fact("the United Kingdom", "London", "Manchester", "uk", "britain", "great britain"),
  fact("Ireland", "Dublin", "Cork"),
  fact("Kazakhstan", "Astana", "Almaty"),
  fact("Tanzania", "Dodoma", "Dar es Salaam"),
  fact("Myanmar", "Naypyidaw", "Yangon", "burma"),
  fact("Sri Lanka", "Sri Jayawardenepura Kotte", "Colombo"),
  fact("Bolivia", "Sucre", "La Paz"),
  fact("Ecuador", "Quito", "Guayaquil"),
  fact("Vanuatu", "Port Vila", "Luganville"),
];

/**
 * Sorted longest alias first, so "south africa" wins over a shorter name inside it. Matched by
 * substring search on the lower-cased prompt, not one case-insensitive Unicode RegExp per alias:
 * compiling those cost ~40 ms of CPU on the first questions of every emulated run.
 */
const ALIASES: ReadonlyArray<{ alias: string; fact: CapitalFact }> = CAPITALS.flatMap((f) =>
  f.aliases.map((a) => ({ alias: a.toLowerCase(), fact: f, length: a.length })),
).sort((x, y) => y.length - x.length);

const LETTER_BEFORE = /\p{L}$/u;
const LETTER_AFTER = /^\p{L}/u;

/** Whether `word` occurs in `text` with no letter right before or after it (a whole word or phrase). */
function containsWord(text: string, word: string): boolean {
  for (let i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + 1)) {
    const end = i + word.length;
    if (!LETTER_BEFORE.test(text.slice(Math.max(0, i - 2), i)) && !LETTER_AFTER.test(text.slice(end, end + 2)))
      return true;
  }
  return false;
}

/** Cities a model names when it does not know: real capitals, so the guess sounds confident. */
export const GUESS_CITIES: readonly string[] = CAPITALS.map((f) => f.capital);

/** Whether the prompt asks for a capital at all (known country or not). */
export function asksForCapital(prompt: string): boolean {
  return /\bcapital\b/i.test(prompt);
}

/** The fact a capital question is about, when the simulated models know that country. */
export function findCapitalFact(prompt: string): CapitalFact | undefined {
  if (!asksForCapital(prompt)) return undefined;
  // Any run of white space in the prompt stands for the one space in a multi-word alias.
  const text = prompt.toLowerCase().replace(/\s+/g, " ");
  return ALIASES.find((a) => containsWord(text, a.alias))?.fact;
}
