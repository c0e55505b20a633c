/**
 * Wording for the Gemini simulator's IEP drafts: goal templates per area of need (recognised from
 * an excerpt's title or quoted sentence) and supports per disability category. Plain data and
 * small pure helpers; the drafts themselves are assembled in simulator-iep.ts.
 */

export interface ServiceTemplate {
  service: string;
  provider: string;
  /** Sessions per week (0.25 = monthly). */
  timesPerWeek: number;
  minutes: number;
  location: string;
  /** "teacher": specially designed instruction; "speech": by the SLP (special education for speech-only students); "related": a related service. */
  role: "teacher" | "speech" | "related";
}

export interface Topic {
  area: string;
  pattern: RegExp;
  /** True for the fallback topic named after a title (no template matched). */
  generic?: boolean;
  condition: string;
  /** Follows the student's name, e.g. "will read aloud …". */
  behavior: string;
  criterion: (baseline: string) => string;
  method: string;
  service: ServiceTemplate;
}

const TEACHER = "Special education teacher";
const SLP = "Speech-language pathologist";
const RESOURCE_ROOM = "Resource room";
const CO_TEACHING = "General education classroom (co-teaching)";
const SPEECH_ROOM = "Speech therapy room";

const fixed = (criterion: string) => (): string => criterion;
const teacher = (service: string, timesPerWeek: number, minutes: number, location = RESOURCE_ROOM): ServiceTemplate =>
  ({ service, provider: TEACHER, timesPerWeek, minutes, location, role: "teacher" });
const speechTherapy: ServiceTemplate = { service: "Speech-language therapy", provider: SLP, timesPerWeek: 2, minutes: 30, location: SPEECH_ROOM, role: "speech" };
const occupationalTherapy: ServiceTemplate = {
  service: "Occupational therapy", provider: "Occupational therapist", timesPerWeek: 1, minutes: 30,
  location: "General education classroom and therapy room", role: "related",
};

/** Areas of need, most specific first; the first whose pattern matches the title (else the quoted sentence) wins. */
export const TOPICS: readonly Topic[] = [
  { area: "Reading fluency", pattern: /fluen|words? correct per minute|\bwcpm\b|oral reading/i,
    condition: "Given an unpracticed grade-level passage", behavior: "will read aloud accurately and with appropriate phrasing",
    criterion: (baseline) => {
      const rate = lastNumberBefore(baseline, /\s*(?:words? correct per minute|wcpm)/i);
      return `${rate === undefined ? "at the grade-level benchmark rate" : `at least ${rate + 30} words correct per minute`} with at least 95% accuracy on 3 consecutive weekly probes`;
    },
    method: "Weekly oral reading fluency probes (curriculum-based measurement), graphed by the special education teacher",
    service: teacher("Specialized reading instruction (fluency)", 4, 30) },
  { area: "Reading comprehension", pattern: /reading comprehension|comprehension (?:questions|probe|check)|comprehend(?:s|ing)? (?:the )?(?:text|passage|story)|main idea|inferen/i,
    condition: "Given a grade-level text, read independently or with audio support", behavior: "will answer literal and inferential questions about the text",
    criterion: fixed("with at least 80% accuracy on 4 of 5 biweekly probes"),
    method: "Biweekly comprehension probes and teacher-scored written responses", service: teacher("Specialized reading instruction (comprehension)", 3, 30, CO_TEACHING) },
  { area: "Decoding and word reading", pattern: /decod|phonic|phonolog|letter-sound|dyslexi|\bread(?:ing|s)?\b|literacy/i,
    condition: "Given a list of unfamiliar one- and two-syllable words", behavior: "will decode the words accurately",
    criterion: fixed("with at least 90% accuracy on 3 consecutive weekly probes"),
    method: "Weekly decoding probes from the structured phonics program", service: teacher("Specialized reading instruction (structured phonics)", 5, 30) },
  { area: "Written expression", pattern: /writ|spell|composition|essay/i,
    condition: "Given a grade-level writing prompt and a graphic organizer", behavior: "will write a paragraph with a topic sentence, supporting details and a conclusion",
    criterion: fixed("scoring at least 3 of 4 on the district writing rubric on 3 consecutive samples"),
    method: "Monthly writing samples scored with the district rubric", service: teacher("Specialized writing instruction", 3, 30, CO_TEACHING) },
  { area: "Math problem solving", pattern: /problem solving|word problem|reasoning/i,
    condition: "Given grade-level word problems, manipulatives and a worked example", behavior: "will choose an operation and solve multi-step problems, showing the steps",
    criterion: fixed("with at least 80% accuracy on 4 of 5 weekly probes"),
    method: "Weekly curriculum-based measurement probes scored by the special education teacher", service: teacher("Specialized math instruction", 3, 30) },
  { area: "Math calculation", pattern: /math|calculat|numer|arithmetic|fraction|computation|addition|subtraction|multiplic|regroup/i,
    condition: "Given computation problems at the instructional level and a reference sheet", behavior: "will solve the problems accurately",
    criterion: fixed("with at least 80% accuracy on 4 of 5 weekly probes"),
    method: "Weekly math computation probes (curriculum-based measurement)", service: teacher("Specialized math instruction", 3, 30) },
  { area: "Articulation", pattern: /articulat|speech sound|intelligib/i,
    condition: "During structured speech activities and classroom conversation", behavior: "will produce target speech sounds correctly in words and sentences",
    criterion: fixed("with at least 80% accuracy across 3 consecutive sessions"),
    method: "Speech-language pathologist probes of target sounds each session", service: speechTherapy },
  { area: "Expressive and receptive language", pattern: /language|vocabular|expressive|receptive|utteranc|narrat|follow\w* (?:[\w-]+ ){0,2}directions|\bspeech\b/i,
    condition: "During classroom discussions and speech-language sessions, given visual supports", behavior: "will follow multi-step directions and explain ideas in complete sentences",
    criterion: fixed("with at least 80% accuracy in 4 of 5 opportunities"),
    method: "Speech-language pathologist data collection and monthly language samples", service: speechTherapy },
  { area: "Attention and work completion", pattern: /on[- ]task|attention|off[- ]task|focus|work completion|intervals|distract|executive|plan\/organize|task-monitor|engaged/i,
    condition: "During independent work in the general education classroom, with a visual timer and scheduled movement breaks",
    behavior: "will stay on task and complete assigned work",
    criterion: (baseline) => {
      const percent = lastNumberBefore(baseline, /\s?%/);
      return `during at least ${percent === undefined ? 80 : Math.min(90, Math.max(80, Math.round((percent + 20) / 5) * 5))}% of observed intervals in 4 of 5 weekly observations`;
    },
    method: "Momentary time-sampling observations by the special education teacher, weekly", service: teacher("Executive-function and self-monitoring instruction", 2, 20) },
  { area: "Functional life skills", pattern: /adaptive|money|daily living|self-care|\bbus\b|cook|breakfast|meal|chores|dress|functional|coins|purchas|communit|hygien|schedule/i,
    condition: "Given a task analysis with picture supports in school and community settings",
    behavior: "will complete the steps of a daily living routine (for example, buying an item or following a visual schedule)",
    criterion: fixed("completing at least 80% of the steps independently in 4 of 5 opportunities"),
    method: "Task-analysis data recorded weekly by the special education teacher",
    service: teacher("Functional life skills instruction", 5, 45, "Special education classroom and community settings") },
  { area: "Self-regulation", pattern: /self-regulat|dysregulat|emotion|frustrat|outburst|coping|anxi|break card|calm|disruptive|refus|behaviou?r (?:incident|referral|episode|plan)/i,
    condition: "When frustrated or upset during class activities, given a visual menu of coping strategies",
    behavior: "will use a coping strategy and return to the task within 5 minutes", criterion: fixed("in at least 4 of 5 recorded opportunities"),
    method: "Daily behaviour data recorded by classroom staff and reviewed weekly", service: teacher("Social-emotional and self-regulation instruction", 2, 30) },
  { area: "Social communication", pattern: /social|peers?\b|conversation|friend|turn-taking/i,
    condition: "During structured small-group activities with peers", behavior: "will start and maintain a conversation for at least 3 exchanges",
    criterion: fixed("in 4 of 5 observed opportunities"), method: "Weekly observation checklists completed by the speech-language pathologist",
    service: { ...speechTherapy, service: "Social communication instruction", timesPerWeek: 1 } },
  { area: "Fine motor and handwriting", pattern: /fine motor|motor|grip|pencil|handwrit|cutting|keyboard/i,
    condition: "Given classroom writing tasks and adaptive tools (pencil grip, slant board)", behavior: "will write legibly or type a response",
    criterion: fixed("meeting the legibility rubric on 4 of 5 work samples"), method: "Monthly work samples scored by the occupational therapist",
    service: occupationalTherapy },
];

/** Titles that name a kind of document rather than an area of need. */
const DOCUMENT_TITLE = /input|observation|evaluation|report|note|assessment|summary|interview|progress|\biep\b|record|letter|screening/i;

/**
 * The area of need of a quoted sentence: matched on the sentence first, then on its excerpt's title
 * (the topic of the document); else named after the title, or `fallbackArea` when the title only
 * names a kind of document.
 */
export function topicFor(title: string, sentence: string, fallbackArea: string): Topic {
  const found = TOPICS.find((topic) => topic.pattern.test(sentence)) ?? TOPICS.find((topic) => topic.pattern.test(title));
  if (found) return found;
  const fromTitle = title.split(/[:(–—]/)[0]?.trim() ?? "";
  const area = fromTitle && !DOCUMENT_TITLE.test(fromTitle) ? fromTitle : fallbackArea;
  return {
    area, pattern: /$^/, generic: true, condition: `Given direct instruction and practice in ${area.toLowerCase()}`,
    behavior: "will show the skills described in the baseline", criterion: fixed("with at least 80% accuracy in 4 of 5 opportunities"),
    method: "Work samples and data probes reviewed every 4 weeks by the special education teacher",
    service: teacher(`Specialized instruction (${area.toLowerCase()})`, 3, 30),
  };
}

/** The last number in `text` followed by `unit`, e.g. 44 in "from 18 to 44 words correct per minute". */
function lastNumberBefore(text: string, unit: RegExp): number | undefined {
  const matches = [...text.matchAll(new RegExp(`(\\d+(?:\\.\\d+)?)(?=${unit.source})`, "gi"))];
  const last = matches.at(-1)?.[1];
  return last === undefined ? undefined : Math.round(Number(last));
}

export interface CategorySupport {
  /** "Because of <phrase>, …" */
  phrase: string;
  /** Follows the student's name. */
  impact: string;
  accommodations: string[];
  aids: string[];
  modifications: string[];
  personnel: string[];
  related: ServiceTemplate[];
}

const support = (phrase: string, impact: string, lists: Partial<Omit<CategorySupport, "phrase" | "impact">>): CategorySupport =>
  ({ phrase, impact, accommodations: [], aids: [], modifications: [], personnel: [], related: [], ...lists });

const TEAM_CONSULT = "Monthly consultation between the special education teacher and general education teachers";

export const CATEGORY_SUPPORTS: Record<string, CategorySupport> = {
  SPECIFIC_LEARNING_DISABILITY: support("a specific learning disability",
    "learns grade-level reading, writing or math skills more slowly than classmates and needs specially designed instruction to be involved and make progress in the general education curriculum", {
      accommodations: ["Extended time (time and a half) on tests", "Directions and test items read aloud, except on sections that measure reading", "Small-group testing setting"],
      aids: ["Audio versions of grade-level texts", "Graphic organizers and worked examples", "Copies of class notes"],
      modifications: ["Spelling not graded on content-area assignments", "Shortened assignments that cover the same standards"],
      personnel: [TEAM_CONSULT] }),
  SPEECH_OR_LANGUAGE_IMPAIRMENT: support("a speech or language impairment",
    "has difficulty expressing ideas and understanding spoken language in class, which limits participation in discussions, oral presentations and language-based lessons", {
      accommodations: ["Directions read aloud and repeated", "Extra time for oral and written responses", "Small-group testing setting"],
      aids: ["Visual supports and word banks for new vocabulary", "Check for understanding after oral directions", "Preferential seating near instruction"],
      modifications: ["An alternative to graded whole-class oral presentations (recorded or small-group)"],
      personnel: ["Speech-language pathologist consultation with classroom teachers on language supports, twice a month"],
      related: [speechTherapy] }),
  INTELLECTUAL_DISABILITY: support("an intellectual disability",
    "learns new concepts more slowly than same-age peers and needs modified content, repetition and concrete examples to participate and make progress in general education activities", {
      accommodations: ["Small-group testing setting", "Directions simplified and read aloud", "Frequent breaks"],
      aids: ["Visual schedules and picture supports", "Calculator and manipulatives", "Peer buddy during transitions and group work"],
      modifications: ["Grade-level content reduced in complexity, aligned to the same standards", "Fewer items per assignment"],
      personnel: ["Training for paraprofessionals on prompting and fading prompts", TEAM_CONSULT] }),
  AUTISM: support("autism", "has difficulty with social communication and with changes in routine, which affects participation in group work, transitions and unstructured times", {
    accommodations: ["Familiar test administrator", "Separate, quiet testing setting", "Visual schedule of the testing session"],
    aids: ["Visual schedule and advance notice of changes in routine", "Access to a calm-down space", "Structured roles in group work"],
    personnel: ["Monthly autism specialist consultation with classroom staff"] }),
  OTHER_HEALTH_IMPAIRMENT: support("an other health impairment",
    "has difficulty sustaining attention and completing multi-step tasks, which reduces independent work completion in the general education classroom", {
      accommodations: ["Frequent breaks", "Separate setting with reduced distractions", "Extended time (time and a half)"],
      aids: ["Visual timer and scheduled movement breaks", "Assignment checklist and planner checked daily", "Preferential seating away from distractions"],
      modifications: ["Long assignments broken into shorter parts with separate due dates"],
      personnel: ["Training for classroom staff on the student's attention and health plan"] }),
  EMOTIONAL_DISTURBANCE: support("an emotional disturbance", "has difficulty managing strong emotions and behaviour, which interrupts learning and relationships with classmates", {
    accommodations: ["Separate testing setting", "Frequent breaks"],
    aids: ["Daily check-in and check-out with a trusted adult", "Access to a calm-down space", "Behaviour intervention plan"],
    personnel: ["Training for staff on the behaviour intervention plan"],
    related: [{ service: "Counseling services", provider: "School psychologist", timesPerWeek: 1, minutes: 30, location: "Counseling office", role: "related" }] }),
  HEARING_IMPAIRMENT: support("a hearing impairment", "has reduced access to spoken instruction and classroom discussion without amplification and visual supports", {
    accommodations: ["Directions given in writing as well as orally", "Separate setting with good acoustics"],
    aids: ["Remote microphone (FM) system", "Captioned videos", "Preferential seating near the teacher"],
    personnel: ["Consultation by the teacher of the deaf and hard of hearing with classroom teachers"],
    related: [{ service: "Audiology services", provider: "Educational audiologist", timesPerWeek: 0.25, minutes: 30, location: "Therapy room", role: "related" }] }),
  VISUAL_IMPAIRMENT: support("a visual impairment", "has limited access to printed and visual materials without enlargement, assistive technology or tactile formats", {
    accommodations: ["Large-print or braille test booklet", "Extended time (time and a half)"],
    aids: ["Large-print materials or screen magnification", "Preferential seating near the board"],
    personnel: ["Consultation by the teacher of students with visual impairments"],
    related: [{ service: "Vision services", provider: "Teacher of students with visual impairments", timesPerWeek: 1, minutes: 45, location: RESOURCE_ROOM, role: "related" }] }),
  ORTHOPEDIC_IMPAIRMENT: support("an orthopedic impairment", "has limited mobility and fine motor control, which slows handwriting, access to materials and movement between classes", {
    accommodations: ["Scribe or speech-to-text for written responses", "Extended time (time and a half)"],
    aids: ["Accessible seating and workspace", "Keyboard or tablet for written work", "Extra time to move between classes"],
    related: [occupationalTherapy, { service: "Physical therapy", provider: "Physical therapist", timesPerWeek: 1, minutes: 30, location: "Therapy room", role: "related" }] }),
  TRAUMATIC_BRAIN_INJURY: support("a traumatic brain injury", "has difficulty with memory, processing speed and fatigue, which affects learning new material and completing work", {
    accommodations: ["Frequent rest breaks", "Extended time (time and a half)"], aids: ["Written checklists and memory aids", "Rest breaks in a quiet space"] }),
  DEVELOPMENTAL_DELAY: support("a developmental delay", "is developing communication, pre-academic and self-help skills later than same-age peers, which affects participation in age-appropriate activities", {
    accommodations: ["Small-group setting", "Frequent breaks"], aids: ["Visual supports and picture schedules", "Adult support during transitions"] }),
};

const DEFAULT_SUPPORT = support("the disability identified in the evaluation",
  "needs specially designed instruction and supports to be involved and make progress in the general education curriculum", {
    accommodations: ["Extended time (time and a half)", "Small-group testing setting"], aids: ["Preferential seating", "Directions repeated and clarified"], personnel: [TEAM_CONSULT] });

/** Supports for each category (defaults for categories without a table entry, or none), in category order. */
export function supportsFor(categories: readonly string[]): CategorySupport[] {
  const known = categories.map((category) => CATEGORY_SUPPORTS[category] ?? { ...DEFAULT_SUPPORT, phrase: categoryPhrase(category) });
  return known.length > 0 ? known : [DEFAULT_SUPPORT];
}

/** "MULTIPLE_DISABILITIES" → "multiple disabilities"; "DEAFNESS" → "deafness"; "SOMETHING_IMPAIRMENT" → "a something impairment". */
function categoryPhrase(category: string): string {
  const words = category.toLowerCase().replace(/_/g, " ");
  if (!/(impairment|disability|delay|injury|disturbance)$/.test(words)) return words;
  return `${/^[aeiou]/.test(words) ? "an" : "a"} ${words}`;
}

/** "1 time per week", "5 times per week", "1 time per month". */
export function frequencyText(timesPerWeek: number): string {
  if (timesPerWeek < 1) {
    const perMonth = Math.max(1, Math.round(timesPerWeek * 4));
    return `${perMonth} ${perMonth === 1 ? "time" : "times"} per month`;
  }
  return `${timesPerWeek} ${timesPerWeek === 1 ? "time" : "times"} per week`;
}

/** Unique strings, first occurrence kept. */
export function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
