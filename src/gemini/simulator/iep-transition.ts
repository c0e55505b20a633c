/**
 * The age-dependent IEP sections of the Gemini simulator's drafts (see simulator-iep.ts):
 * postsecondary goals and transition services, drawn from transition evidence (interest
 * inventories, the student's own plans) when the prompt has any, and the transfer-of-rights notice.
 */
import { isTransitionExcerpt, sentencesOf, sourceOf, type IepRequestFacts } from "./iep-evidence.ts";
import { unique } from "./iep-templates.ts";

/** §300.320(b): postsecondary goals (education, employment, independent living) and transition services. */
export function transitionSection(facts: IepRequestFacts, alternate: boolean): Record<string, unknown> {
  const name = facts.firstName;
  const evidence = facts.excerpts.filter(isTransitionExcerpt);
  const interest = evidence.map((e) => /interests? in ([^.;:,\n]{3,80}?)(?:[.;:,\n]| and (?:wants|would)|$)/i.exec(e.text)?.[1]?.trim()).find(Boolean);
  // The student's wish about living after school, e.g. "wants to live with a roommate and take the bus independently".
  const living = evidence
    .flatMap((excerpt) => sentencesOf(excerpt.text).flatMap((s) => s.split(/;\s*/)).map((sentence) => ({ excerpt, sentence: sentence.trim() })))
    .find(({ sentence }) => /\bwants?\b|would like|hopes?\b|\bplans?\b/i.test(sentence) && /\blive\b|roommate|apartment|\bbus\b|independen/i.test(sentence));
  const supported = alternate || facts.categories.includes("INTELLECTUAL_DISABILITY");
  const field = interest ? `related to ${interest}` : "matched to interests identified through transition assessments";
  const within = "Within one year of leaving high school";
  return {
    postsecondaryGoals: {
      education: supported
        ? `${within}, ${name} will take part in a community-based vocational training program ${field}.`
        : `${within}, ${name} will enroll in a career and technical training program or community college courses ${field}.`,
      employment: `${within}, ${name} will work in a competitive, integrated job ${field}${supported ? ", with job coaching as needed" : ""}.`,
      independentLiving: living
        ? `${within}, ${name} will live and travel in the community as independently as possible, as ${sourceOf(living.excerpt)} describes: "${living.sentence}"`
        : supported ? `${within}, ${name} will manage a daily schedule, money for purchases and public transportation with minimal support.` : null,
    },
    transitionServices: [
      interest ? `Career exploration and job shadowing in ${interest}` : "Career exploration and job shadowing",
      living || supported ? "Community-based instruction in travel training and money management" : "College and career planning with the school counselor",
      `Instruction in self-advocacy, including leading part of ${name}'s own IEP meeting`,
      "Referral to the State vocational rehabilitation agency before the final year of high school",
    ],
    courseOfStudy: alternate
      ? "A modified course of study in functional academics, career and technical education and community-based instruction"
      : `A general education course of study toward a standard diploma, with career and technical education electives ${field}`,
    ageAppropriateAssessments: unique([
      ...evidence.map((e) => e.title).filter((title) => /inventory|assessment|interview|survey|questionnaire|interest/i.test(title)),
      "Student and parent transition interviews",
    ]),
  };
}

/** §300.320(c): the notice that rights transfer at the age of majority (18 in most States). */
export function transferOfRightsSection(name: string): Record<string, unknown> {
  return {
    ageOfMajority: 18,
    statement: `${name} and ${name}'s parents have been informed that the rights under IDEA will transfer to ${name} at age 18, the age of majority in this State, unless a guardian is appointed. (Team: record the date this notice was given.)`,
  };
}
