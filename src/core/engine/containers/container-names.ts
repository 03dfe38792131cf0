import { randomInt } from "node:crypto";

// Docker's scheme (adjective_surname), with word lists of Hangar's own.
const ADJECTIVES = [
  "agile", "bold", "brave", "bright", "calm", "clever", "cool", "crisp", "daring", "eager", "fair", "fast", "fond", "gentle", "glad",
  "happy", "jolly", "keen", "kind", "lively", "lucid", "merry", "modest", "neat", "nimble", "noble", "patient", "plucky", "proud", "quick",
  "quiet", "rapid", "serene", "sharp", "shy", "smart", "steady", "sunny", "swift", "tender", "tidy", "trusty", "vivid", "warm", "wise", "witty", "zen",
];
// People who shaped computing and the sciences it rests on.
const SURNAMES = [
  "babbage", "backus", "bardeen", "bell", "boole", "brattain", "cerf", "church", "codd", "conway", "curie", "dijkstra", "engelbart", "euler",
  "faraday", "feynman", "gauss", "goldberg", "hamilton", "hopper", "kahn", "kay", "knuth", "lamarr", "lamport", "liskov", "lovelace", "maxwell",
  "mccarthy", "meitner", "minsky", "moore", "neumann", "noether", "perlman", "pike", "ritchie", "shannon", "sutherland", "tesla", "thompson",
  "torvalds", "turing", "wilkes", "wirth", "wozniak",
];

/** A name not in `taken`, as Docker makes them ("brave_turing"); a digit is added if all tries collide. */
export function containerName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 20; i++) {
    const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}${i >= 10 ? randomInt(10) : ""}`;
    if (!taken(name)) return name;
  }
  return `${ADJECTIVES[0]}_${SURNAMES[0]}${Date.now()}`;
}

/** Docker's rule for --name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
export const VALID_CONTAINER_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
