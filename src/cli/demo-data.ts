/**
 * Synthetic demo data for `npm run seed -- --demo`.
 *
 * Everything here is fictional: the school, the case manager, the students, their families and
 * every score. Names are deliberately artificial ("Demofield", "Samplewood", "Ejemplo", ...) so
 * nobody mistakes a demo record for a real child. No identifiers (student IDs, SSNs, addresses)
 * are included; guardians have fictional 555-01xx phone numbers and example.org emails, and their
 * names (like the students') are replaced by placeholders before any text reaches Gemini. Dates
 * assume the demo "today" of 2026-11-22 (school year 2026-27).
 *
 * Retrieval-test note: Nora Demofield (grade 2) has exactly one PROGRESS_NOTE whose title starts
 * with "Reading fluency"; her other documents deliberately avoid the words "reading"/"read" and
 * "fluency"/"fluent" so a search for "reading fluency" ranks that note first.
 *
 * Pure data: no I/O and no imports.
 */

export type DemoEvidenceKind =
  | "EVALUATION"
  | "PRIOR_IEP"
  | "PROGRESS_NOTE"
  | "TEACHER_OBSERVATION"
  | "PARENT_INPUT"
  | "ASSESSMENT"
  | "OTHER";

export type DemoDisabilityCategory =
  | "AUTISM"
  | "DEAF_BLINDNESS"
  | "DEAFNESS"
  | "DEVELOPMENTAL_DELAY"
  | "EMOTIONAL_DISTURBANCE"
  | "HEARING_IMPAIRMENT"
  | "INTELLECTUAL_DISABILITY"
  | "MULTIPLE_DISABILITIES"
  | "ORTHOPEDIC_IMPAIRMENT"
  | "OTHER_HEALTH_IMPAIRMENT"
  | "SPECIFIC_LEARNING_DISABILITY"
  | "SPEECH_OR_LANGUAGE_IMPAIRMENT"
  | "TRAUMATIC_BRAIN_INJURY"
  | "VISUAL_IMPAIRMENT";

export interface DemoEvidence {
  kind: DemoEvidenceKind;
  title: string;
  body: string;
}

export interface DemoGuardian {
  name: string;
  relationship: string;
  email?: string;
  phone?: string;
}

export interface DemoStudent {
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD */
  dateOfBirth: string;
  /** "PK" | "K" | "1".."12" */
  grade: string;
  /** 1-2 categories */
  disabilityCategories: DemoDisabilityCategory[];
  primaryLanguage: string;
  /** 3-6 documents */
  evidence: DemoEvidence[];
  /** Parents or guardians on the record (setStudentGuardians). */
  guardians: DemoGuardian[];
}

export const DEMO_SCHOOL_NAME_PREFIX: string = "Maple Grove Elementary-Secondary (demo)";

export const DEMO_CASE_MANAGER: { name: string; email: string } = {
  name: "Jordan Casewell (demo case manager)",
  email: "jordan.casewell@example.org",
};
/** The demo school's ADMIN: sees the whole school and manages caseloads. */
export const DEMO_ADMIN: { name: string; email: string } = {
  name: "Morgan Adair (demo admin)",
  email: "morgan.adair@example.org",
};
/** The demo school's TEACHER: sees and drafts for the first DEMO_TEACHER_STUDENTS demo students only. */
export const DEMO_TEACHER: { name: string; email: string } = {
  name: "Riley Tutwell (demo teacher)",
  email: "riley.tutwell@example.org",
};
export const DEMO_TEACHER_STUDENTS = 2;

/** The demo school's own IEP template (createIepTemplate input): a state form with two extra items. */
export const DEMO_TEMPLATE = {
  name: "Maple Grove state IEP form (demo)",
  sections: [
    { kind: "PRESENT_LEVELS", label: "Present Levels of Academic Achievement and Functional Performance (PLAAFP)" },
    { kind: "ANNUAL_GOALS", label: "Measurable Annual Goals" },
    { kind: "SERVICES", label: "Services, Aids and Modifications" },
    { kind: "PROGRESS_REPORTING", label: "Progress Reporting" },
    { kind: "LEAST_RESTRICTIVE_ENVIRONMENT", label: "Placement and Least Restrictive Environment" },
    { kind: "ASSESSMENT_PARTICIPATION", label: "State and District Assessments" },
    { kind: "TRANSITION", label: "Secondary Transition" },
    { kind: "TRANSFER_OF_RIGHTS", label: "Transfer of Rights" },
  ],
  extraItems: [
    { key: "extendedSchoolYear", label: "Extended school year (ESY)", section: "SERVICES",
      description: "Whether the student needs extended school year services to keep skills over breaks, and the evidence for it" },
    { key: "assistiveTechnology", label: "Assistive technology", section: "PRESENT_LEVELS",
      description: "Assistive technology devices or services the student needs, or that none are needed" },
  ],
  defaultInstructions: "Write for families first: short sentences, no acronyms without their meaning.",
} as const;

// ---------------------------------------------------------------------------------------------
// 1. Nora Demofield: grade 2, specific learning disability (dyslexia profile)
// ---------------------------------------------------------------------------------------------

const NORA: DemoStudent = {
  firstName: "Nora",
  lastName: "Demofield",
  dateOfBirth: "2019-03-14",
  grade: "2",
  disabilityCategories: ["SPECIFIC_LEARNING_DISABILITY"],
  primaryLanguage: "English",
  guardians: [
    { name: "Lena Demofield", relationship: "mother", email: "lena.demofield@example.org", phone: "(503) 555-0142" },
  ],
  evidence: [
    {
      kind: "EVALUATION",
      title: "Psychoeducational evaluation summary: phonological processing and cognitive profile",
      body: `Evaluation dates: January 26 to February 6, 2026 (Grade 1). Completed by the school psychologist and the special education teacher. Reason for referral: Nora was referred by her first-grade teacher and her parents because of persistent difficulty learning letter-sound correspondences and blending sounds into words, despite two cycles of small-group Tier 2 phonics instruction between September 2025 and January 2026.

Cognitive functioning (WISC-V): Full Scale IQ 98 (45th percentile, average range). Verbal Comprehension Index 106 (66th percentile), Visual Spatial Index 100 (50th), Fluid Reasoning Index 102 (55th), Working Memory Index 91 (27th), Processing Speed Index 88 (21st). Verbal reasoning and vocabulary are clear strengths; Nora explained word meanings with precise, detailed language and obvious enjoyment.

Phonological processing (CTOPP-2): Phonological Awareness composite 79 (8th percentile), Phonological Memory composite 88 (21st percentile), Rapid Symbolic Naming composite 76 (5th percentile). On Elision, Nora could delete a syllable from a compound word but not an individual phoneme (for example, "say cat without /k/"). Blending Words scaled score 6.

Academic achievement (WIAT-4): Decoding composite 79 (8th percentile); Pseudoword Decoding 78; Phonemic Proficiency 80; Spelling 81; Listening Comprehension 104 (61st percentile); Numerical Operations 95; Math Problem Solving 97. Nora produced correct sounds for 19 of 26 letters and spelled phonetically (for example, "sop" for "stop" and "jrp" for "jump").

Summary: Nora demonstrates average cognitive ability with a relative strength in oral language, and a pattern of weakness in phonological awareness, rapid naming, decoding and spelling. Her listening comprehension is age-appropriate, which indicates that her difficulties are specific to the sound-symbol level of written language rather than to understanding language. Her profile is consistent with a specific learning disability in basic literacy skills (a dyslexia profile).

Recommendations: explicit, systematic, multisensory phonics and spelling instruction delivered daily in a small group; progress monitoring of decoding and word-level skills; and accommodations in content areas, including oral presentation of directions and test items, audio support for science and social studies materials, and reduced spelling demands on written tasks.`,
    },
    {
      kind: "PROGRESS_NOTE",
      title: "Reading fluency progress note: IEP Goal 1 (oral reading fluency), November 2026",
      body: `Reading fluency goal (IEP Goal 1, IEP dated March 2, 2026): By March 1, 2027, when given an unpracticed grade 2 passage, Nora will read aloud at 70 words correct per minute (WCPM) with at least 95% accuracy and appropriate phrasing, as measured by DIBELS 8 Oral Reading Fluency (ORF) progress-monitoring probes.

Baseline oral reading fluency (March 2026, grade 1 passages): 18 WCPM with 82% accuracy. Reading was word by word, with frequent sounding out of high-frequency words and little attention to punctuation.

Reading fluency intervention: Nora receives a repeated reading intervention four times per week for 20 minutes with the special education teacher, in addition to 30 minutes of daily structured phonics. Each repeated reading session includes a cold read, a teacher model of fluent reading, three timed repeated readings of the same passage with corrective feedback on errors, phrase-cued text practice, and a graphed hot read so Nora can see her own reading growth.

Oral reading fluency data (DIBELS 8 ORF, median of three passages):
- May 12, 2026 (grade 1): 27 WCPM, 86% accuracy
- September 9, 2026 (grade 2 beginning-of-year benchmark): 31 WCPM, 88% accuracy
- October 7, 2026: 38 WCPM, 90% accuracy
- November 4, 2026: 44 WCPM, 92% accuracy

Hot reads on practiced passages now average 61 WCPM. Since September her oral reading rate has grown by about 1.6 words correct per minute per week, which slightly exceeds the roughly 1.5 words per week she needs to reach the reading fluency goal by March 2027. Reading errors are mainly on multisyllabic words and vowel teams; she self-corrects about one third of her errors.

Phrasing and expression: on a 4-point reading prosody rubric, Nora's phrasing improved from 1 (word-by-word reading) in March to 2.5 in November. She now pauses at periods, reads dialogue with some expression, and rereads a sentence when it does not make sense.

Status: making sufficient progress; the reading fluency goal is expected to be met. Recommendations: continue repeated reading four times weekly, add partner reading with a grade 2 peer once a week, and add multisyllabic word practice to the warm-up. Reading fluency graph shared with the family on November 10, 2026.`,
    },
    {
      kind: "TEACHER_OBSERVATION",
      title: "Teacher observation: attention and work completion during the math block",
      body: `Setting: grade 2 general education classroom, 45-minute math block, observed on September 24 and October 15, 2026, by the special education case manager, with notes from the classroom teacher.

Method and results: using 30-second momentary time sampling over 30 minutes each day, Nora was actively engaged (looking at the speaker or materials, manipulating counters, writing) during 68% of intervals on September 24 and 74% on October 15. A randomly selected comparison peer was engaged during 85% and 88% of intervals. Most off-task intervals occurred during independent practice pages that contained printed word problems. During whole-group instruction with manipulatives and number talks, Nora's engagement was 90% or higher.

Concrete behaviours noted: Nora left her seat four times on September 24 (to sharpen a pencil, to get water, and twice to check a peer's work) and twice on October 15. She asked the teacher to explain written directions three times. When the paraprofessional presented word problems orally, she solved 7 of 8 correctly and explained her strategy ("I made a ten and then added three more"). She completed 9 of 20 items on the independent practice page on September 24, and 14 of 20 on October 15 after the teacher split the page into two sections with a check-in between them.

Strengths: Nora is enthusiastic, participates eagerly in number talks, and has strong number sense for her grade. She is kind to classmates and often offers help. She responds well to specific praise and to a visual timer.

Suggestions: present word problems orally or with picture support, chunk independent tasks with brief check-ins, provide a movement break midway through the block, and continue to seat Nora near the point of instruction. Her attention appears situational and linked to print-heavy tasks rather than a general attention concern; the team will continue to monitor and will revisit this question at the annual review.`,
    },
    {
      kind: "ASSESSMENT",
      title: "Mathematics screening and curriculum-based measurement, fall 2026",
      body: `Measures: fall universal math screener (computer-adaptive, administered with audio support on September 16, 2026) and curriculum-based measurement (CBM) probes for computation and for concepts and applications, administered September through November 2026.

Universal screener: Nora scored at the 58th national percentile overall (scale score 196). Domain results: Number and Operations, on grade level; Algebraic Thinking, on grade level; Measurement and Data, slightly below grade level, mainly on items involving telling time to five minutes; Geometry, above grade level.

Computation CBM (grade 2 mixed addition and subtraction within 100, 2 minutes):
- September 18, 2026: 14 digits correct (fall benchmark 16)
- October 16, 2026: 19 digits correct
- November 13, 2026: 22 digits correct (winter benchmark 24)
Errors were mostly regrouping errors in subtraction (for example, 52 - 27 = 35).

Concepts and applications CBM (items presented orally):
- September 2026: 11 points (42nd percentile)
- November 2026: 15 points (55th percentile)

Addition facts within 20: 38 of 40 correct on an untimed probe, and 24 facts correct in one minute, which is within the average range for the fall of grade 2.

Interpretation: Nora's mathematical reasoning and number sense are within the average range and are an area of strength. Her computation speed is slightly below the fall benchmark but growing steadily; subtraction with regrouping is the main skill gap and can be addressed within core instruction and Tier 1 small-group practice. When word problems are presented in print without audio or adult support, her accuracy drops from about 85% to about 50%, which reflects her decoding needs rather than a mathematics disability.

Recommendation: the team does not recommend a mathematics goal at this time. Accommodations are recommended: oral presentation of word problems, audio support on computer-based assessments, and a number line and hundreds chart available during independent work.`,
    },
    {
      kind: "PARENT_INPUT",
      title: "Parent input: homework, spelling practice and home observations",
      body: `Written by Nora's mother for the annual review, November 2026.

Nora is a joyful, creative kid. She builds elaborate Lego cities, tells long and funny stories at dinner, and knows every animal fact from the nature documentaries we watch together. She loves school on the days she gets to build things or do science experiments.

Homework is the hardest part of our day. Her teacher sends about 15 minutes of homework, but most nights it takes us 40 to 50 minutes. Spelling practice is the worst: she can spell a word correctly five times on Monday and then spell it a different way on Thursday's quiz. Last Thursday she got 6 out of 15 words right and cried in the car. She says, "My brain just doesn't hold letters." Math homework usually goes fine if I say the problems out loud for her. She does the math in her head faster than I do.

What helps at home: short breaks every 10 minutes, letting her write with a marker on a whiteboard, and using magnetic letters to build her spelling words. She listens to audiobooks every night and can retell the whole chapter. We also practice her sound cards for five minutes before school, which she now likes because she colors in her own progress chart.

Our concerns: we worry about her confidence. She has started calling herself "dumb" when she compares herself to her older cousin. We also want to make sure she isn't missing science and social studies content because of all the written material.

What we hope for this year: that she feels successful, that homework takes less time (could the spelling list be shortened or practiced a different way?), and that she keeps getting the extra small-group help, because we can see it is working. We would like regular updates, maybe a short note every two weeks, so we can practice the same things at home.`,
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// 2. Owen Samplewood: grade 5, autism
// ---------------------------------------------------------------------------------------------

const OWEN: DemoStudent = {
  firstName: "Owen",
  lastName: "Samplewood",
  dateOfBirth: "2016-05-22",
  grade: "5",
  disabilityCategories: ["AUTISM"],
  primaryLanguage: "English",
  guardians: [
    { name: "Corin Samplewood", relationship: "father", email: "corin.samplewood@example.org", phone: "(503) 555-0177" },
  ],
  evidence: [
    {
      kind: "EVALUATION",
      title: "Triennial reevaluation summary: autism, cognitive, language and adaptive functioning",
      body: `Reevaluation completed October 5 to 20, 2026 (Grade 5) by the school psychologist, speech-language pathologist and occupational therapist. Owen was first found eligible for special education under the category of autism in kindergarten.

Cognitive (WISC-V): Full Scale IQ 94 (34th percentile). Verbal Comprehension Index 89 (23rd), Visual Spatial Index 112 (79th), Fluid Reasoning Index 108 (70th), Working Memory Index 92 (30th), Processing Speed Index 81 (10th). Visual-spatial and nonverbal reasoning are strengths; Owen completed block designs quickly and accurately and enjoyed the pattern tasks.

Autism-specific (ADOS-2, Module 3): comparison score 7 (moderate level of autism-related features). Owen initiated conversation mainly about his interests (weather systems and trains), used limited gestures, and had difficulty sustaining back-and-forth conversation on examiner-chosen topics. Social Responsiveness Scale, Second Edition: teacher total T-score 72, parent total T-score 70 (moderate range).

Language (CELF-5): Core Language 86; Receptive Language 90; Expressive Language 84. CELF-5 Pragmatics Profile below the criterion for his age (5th percentile). Structural language is in the low average range; social use of language is the primary area of need.

Adaptive behavior (Vineland-3, teacher form): Adaptive Behavior Composite 74; Communication 78; Daily Living Skills 82; Socialization 66. The parent form yielded an Adaptive Behavior Composite of 76 with a similar profile.

Sensory (Sensory Profile 2, School Companion): "more than others" in auditory sensitivity. Owen covers his ears in the cafeteria and during fire drills.

Academic (WIAT-4): Reading Comprehension 98; Math Problem Solving 101; Numerical Operations 96; Sentence Composition 82; Essay Composition 79.

Summary and recommendations: Owen continues to meet eligibility criteria for autism. He has average academic skills in most areas, with written expression below average, related to organizing ideas and slower processing speed. The team recommends continued speech-language services targeting pragmatic language, a structured social skills group, occupational therapy consultation for sensory regulation, graphic organizers for writing, and planning for the transition to middle school next year.`,
    },
    {
      kind: "PRIOR_IEP",
      title: "Prior IEP summary: annual IEP dated December 8, 2025",
      body: `Present levels (December 2025, Grade 4): Owen is a conscientious student who follows classroom rules, has an extensive vocabulary about weather and transportation, and completes math work accurately. He spends 80% or more of the school day in the general education classroom. Social initiations with peers were observed an average of 1 time per day across five observed days in November 2025. Owen used his break card independently in 4 of 10 observed opportunities (40%); at other times he became dysregulated (crying, putting his head down, or leaving his seat) and needed adult prompting. Behavior logs showed an average of 6 episodes of dysregulation per week from September to November 2025, most often during unexpected schedule changes and noisy transitions.

Annual goals:
1. Social communication: by December 2026, during structured peer activities, Owen will initiate a social interaction and maintain a conversation for at least 3 back-and-forth exchanges on a peer-chosen topic in 4 of 5 opportunities, as measured by speech-language pathologist data.
2. Self-regulation: by December 2026, when frustrated or overwhelmed, Owen will independently use a coping strategy (break card, headphones, or breathing routine) in 80% of observed opportunities across 3 consecutive weeks, as measured by teacher data.
3. Written expression: by December 2026, given a graphic organizer, Owen will write a multi-paragraph response with a topic sentence, three supporting details and a conclusion, scoring 3 of 4 on the district writing rubric on 3 of 4 samples.

Special education and related services: speech-language therapy 2 x 30 minutes per week (small group); social skills group 1 x 30 minutes per week; special education resource support for writing 3 x 30 minutes per week; occupational therapy consultation 30 minutes per month.

Accommodations: visual schedule with advance notice of changes; noise-reducing headphones available; preferential seating away from the door; extended time (1.5x) on tests and writing tasks; option to eat lunch in a quieter "lunch bunch" setting twice weekly; graphic organizers.

Least restrictive environment: inside general education 80% or more of the day. Participates in state assessments with accommodations.`,
    },
    {
      kind: "PROGRESS_NOTE",
      title: "Progress report: social communication and self-regulation goals, first quarter 2026-27",
      body: `Reporting period: August 26 to November 6, 2026. Progress toward the annual goals in the IEP dated December 8, 2025.

Goal 1, social communication (initiating and maintaining conversations). Baseline: 1 initiation per day; conversations rarely extended beyond 1 exchange. Data from the structured lunch bunch and social skills group (speech-language pathologist probes, 5 opportunities per session):
- September 2026: initiated in 3 of 5 opportunities; maintained 3 or more exchanges in 2 of 5
- October 2026: initiated in 4 of 5; maintained 3 or more exchanges in 3 of 5
- Early November 2026: initiated in 4 of 5; maintained 3 or more exchanges in 3 of 5 (average of two sessions)
Owen now uses a visual "conversation map" to ask a follow-up question. He is most successful when the peer's topic involves video games or animals and less successful when peers change topics quickly. Progress: making progress; goal not yet met (criterion 4 of 5).

Goal 2, self-regulation. Baseline: independent coping-strategy use in 40% of opportunities; 6 dysregulation episodes per week. Teacher data:
- September 2026: 7 of 12 opportunities (58%)
- October 2026: 9 of 12 opportunities (75%)
- November 2 to 6, 2026: 4 of 5 opportunities (80%)
Dysregulation episodes decreased to an average of 2 per week in October 2026. Owen independently put on his headphones during the October 21 fire drill and rejoined his class within 3 minutes. Progress: making sufficient progress; he needs 3 consecutive weeks at 80% to meet the goal.

Goal 3, written expression. Baseline: rubric scores of 1 to 2. Owen scored 2, 3 and 2 on three on-demand samples in September and October. He consistently writes a clear topic sentence and accurate supporting facts; conclusions and transitions between ideas remain difficult. Progress: making progress.

Next steps: generalize conversation skills to recess with a peer mentor, continue the self-monitoring checklist, and introduce a transition-word bank for writing.`,
    },
    {
      kind: "TEACHER_OBSERVATION",
      title: "Teacher observation: transitions, group work and strengths in grade 5",
      body: `Observations by the grade 5 general education teacher, September 14 to October 30, 2026.

Transitions: when the visual schedule is reviewed at the start of the day and changes are previewed at least 10 minutes ahead, Owen moves between activities within about 1 minute, the same as his classmates. On October 2, when an assembly replaced science without advance notice, Owen put his head down, repeated "it's science time," and needed about 12 minutes and a walk with the paraprofessional to re-engage. Coming in from recess is the hardest transition of the day: across 10 recorded days he took an average of 4 minutes to begin the math warm-up, compared with about 1 minute for peers.

Group work: in cooperative groups of four, Owen contributes accurate information, especially in science, but tends to take over tasks related to his interests and has difficulty accepting a group decision he disagrees with. During the weather unit project on October 19, he correctly explained to his group how cold fronts form and drew a detailed diagram; he needed one prompt to let a peer present part of the poster. With a role card ("materials manager," "recorder"), he stayed in his role for the full 25 minutes.

Work habits: Owen follows classroom rules carefully, keeps his desk organized, and turns in homework consistently (95% completion this quarter). Writing tasks take him noticeably longer; he often writes one strong paragraph and then stops. Using a graphic organizer and a sentence-starter strip, he completed a four-paragraph response on October 28.

Sensory: he covers his ears in the cafeteria and during loud group activities. Noise-reducing headphones help, and classmates accept them without comment.

Strengths: an exceptional memory for facts, precise vocabulary, honesty and a gentle sense of humor. Classmates ask him for help with science questions, and he has become friendly with two classmates who share his interest in a building video game.`,
    },
    {
      kind: "PARENT_INPUT",
      title: "Parent input: home routines, interests and hopes for the year",
      body: `Provided by Owen's father during a phone conference with the case manager on October 27, 2026, and reviewed with him for accuracy.

"Owen is a sweet and funny kid who knows more about weather than anyone in our family. He checks the forecast every morning and tells us whether we need umbrellas. He has been building a model train layout with his grandfather for two years, and he can tell you every station on it.

After school is tough. He holds it together all day, and then at home he sometimes melts down over small things, like the wrong snack or his sister talking too loudly. Last fall those meltdowns happened almost every day. This year it is more like once or twice a week, and they are shorter, maybe 10 minutes instead of 30. He now asks for 'quiet time' in his room, which is new and really helps.

Sleep is a concern. It takes him about an hour to fall asleep, and he worries about things that are going to happen the next day, like having a substitute teacher. When we know about changes ahead of time and can talk about them the night before, he does much better.

He told me he wants a friend to hang out with on weekends. He mentioned two boys from class who like the same video game. We would love help with that, maybe ideas for how he can invite someone over, or practicing what to say.

Next year is middle school, and we are nervous about the bigger building, changing classes and lockers. We would like to start planning early: visiting the school in the spring, getting a map and his schedule ahead of time, and knowing who his go-to adult will be.

What works at home: a picture schedule on the fridge, warnings before transitions ('five more minutes'), his headphones, and giving him a few minutes to talk about trains before we ask him to do something hard."`,
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// 3. Jada Testerly: grade 7, ADHD (other health impairment) + SLD in math calculation
// ---------------------------------------------------------------------------------------------

const JADA: DemoStudent = {
  firstName: "Jada",
  lastName: "Testerly",
  dateOfBirth: "2014-02-09",
  grade: "7",
  disabilityCategories: ["OTHER_HEALTH_IMPAIRMENT", "SPECIFIC_LEARNING_DISABILITY"],
  primaryLanguage: "English",
  guardians: [
    { name: "Renata Testerly", relationship: "mother", phone: "(503) 555-0123" },
  ],
  evidence: [
    {
      kind: "EVALUATION",
      title: "Multidisciplinary evaluation summary: attention, executive functioning and mathematics",
      body: `Evaluation completed February 23 to March 13, 2026 (Grade 6). Jada was referred by her grade 6 team because of incomplete assignments, difficulty sustaining attention, and math grades below passing despite Tier 2 math intervention during fall 2025. Her physician documented a diagnosis of attention-deficit/hyperactivity disorder (ADHD), combined presentation, in January 2026 (medical statement on file); she began a stimulant medication in February 2026.

Cognitive (WISC-V): Full Scale IQ 96 (39th percentile). Verbal Comprehension Index 108 (70th), Visual Spatial Index 98 (45th), Fluid Reasoning Index 100 (50th), Working Memory Index 82 (12th), Processing Speed Index 84 (14th). Verbal reasoning is a clear strength.

Attention and executive functioning: Conners 4 teacher ratings: Inattention/Executive Dysfunction T = 78, Hyperactivity T = 71, Impulsivity T = 69 (elevated to very elevated). Parent ratings were similar (Inattention/Executive Dysfunction T = 75). BRIEF-2 teacher Global Executive Composite T = 72, with the highest elevations in Working Memory (T = 76), Plan/Organize (T = 74) and Task-Monitor (T = 73).

Academic achievement (WIAT-4): Numerical Operations 76 (5th percentile); Math Problem Solving 84 (14th percentile); timed math facts composite 74 (4th percentile); Reading Comprehension 102; Sentence Composition 95; Essay Composition 93. On Numerical Operations, Jada solved whole-number problems accurately but made errors with fractions (adding denominators), multi-digit division and negative numbers. Her multiplication facts through 12 were 62% accurate on an untimed probe.

Eligibility: Jada's ADHD adversely affects her educational performance through limited alertness to the educational environment, consistent with Other Health Impairment. In addition, her mathematics calculation skills are significantly below age and grade expectations and did not respond adequately to intervention (computation CBM growth during Tier 2 was 0.3 points per week against a target of 0.8), consistent with a Specific Learning Disability in mathematics calculation. Her verbal reasoning, text comprehension and writing are average to above average.

Recommendations: specialized math instruction, executive functioning supports (planner checks, chunked assignments), a check-in/check-out system, and accommodations including extended time, a reduced-distraction testing setting, and a multiplication chart for multi-step problems when fact recall is not the objective.`,
    },
    {
      kind: "PRIOR_IEP",
      title: "Initial IEP summary (dated March 24, 2026): goals, services and accommodations",
      body: `Present levels at the initial IEP (March 2026, Grade 6): Jada is a verbal, curious student who participates actively in discussions and enjoys science labs and drama club. Her math grade was 54% at the end of the second trimester. On a grade 6 computation probe she solved 45% of fraction, decimal and integer problems correctly. Teacher records over four weeks showed she submitted 55% of assigned classwork and homework; missing work was usually started but not finished, or finished but not turned in.

Annual goals:
1. Math calculation: by March 2027, Jada will accurately solve multi-step problems involving fractions, decimals and integers at the grade 7 level with 80% accuracy on 3 consecutive biweekly probes, as measured by curriculum-based measurement.
2. Math facts: by March 2027, Jada will answer mixed multiplication and division facts through 12 with 90% accuracy, with 40 facts correct in 2 minutes, as measured by timed probes.
3. Task completion and organization: by March 2027, using a planner and a check-in/check-out system, Jada will record assignments and submit 85% of classwork and homework on time across 4 consecutive weeks, as measured by teacher records.

Special education services: specialized math instruction in a co-taught math class 5 x 45 minutes per week, plus small-group math intervention 3 x 25 minutes per week; executive functioning coaching with the special education teacher 2 x 20 minutes per week; school counselor consultation 30 minutes per month.

Accommodations: extended time (1.5x) on tests and quizzes; tests in a small-group, reduced-distraction setting; chunked assignments with interim check-ins; guided notes or a copy of class notes; a multiplication chart during multi-step problem solving when fact recall is not the objective; movement breaks; preferential seating near instruction; a daily planner check at the end of the day.

Least restrictive environment: inside general education 80% or more of the day. Participates in state assessments with accommodations (extended time, small group).`,
    },
    {
      kind: "PROGRESS_NOTE",
      title: "Progress note: math calculation and task-completion goals, fall 2026",
      body: `Reporting period: August 26 to November 13, 2026 (Grade 7). Goals from the IEP dated March 24, 2026.

Goal 1, multi-step computation with fractions, decimals and integers. Baseline: 45% accuracy (March 2026). Biweekly CBM probes (20 problems each):
- September 10: 52%
- September 24: 55%
- October 8: 60%
- October 22: 64%
- November 5: 68%
Jada now reliably finds common denominators and multiplies fractions; errors remain when subtracting negative integers and dividing decimals. Progress: making sufficient progress toward 80%.

Goal 2, multiplication and division facts. Baseline: 62% accuracy, 14 correct in 2 minutes. Current: 84% accuracy and 27 correct in 2 minutes (November 6 probe). She practices with a digital fact game three times weekly and graphs her own scores. Progress: making progress; the rate of growth will be monitored closely.

Goal 3, task completion. Baseline: 55% of work submitted. Weekly teacher records:
- September average: 66%
- October average: 78%
- First two weeks of November: 81%
Check-in/check-out point sheets show Jada earning 80% or more of her daily points on 31 of 48 school days. Missing work is now concentrated in long-term science and social studies projects, which the team will address with a project-planning template.

Other observations: Jada's math grade is currently 74% (C). She reports that her medication "helps in the morning but wears off by sixth period"; the family has shared this with her physician. Jada is advocating for herself more often, for example by asking for the quiet testing room before a quiz on October 29.

Recommendations: continue the current math intervention, add explicit instruction on integer operations using number lines, introduce a project-planning template in science and social studies, and keep the end-of-day planner check.`,
    },
    {
      kind: "TEACHER_OBSERVATION",
      title: "Classroom observation: grade 7 pre-algebra",
      body: `Observer: special education case manager. Setting: co-taught grade 7 pre-algebra class (28 students), 52 minutes, third period, observed October 14 and October 21, 2026.

Method: 10-second partial-interval recording of off-task behaviour (not attending to the teacher, task or materials; off-topic talking; out of seat without permission) over two 20-minute samples, alternating between Jada and a randomly selected peer.

Results: Jada was off task in 38% of intervals on October 14 and 29% on October 21; comparison peers were off task in 12% and 10% of intervals. Off-task behaviour was most frequent during independent practice that followed more than 12 minutes of direct instruction. Jada called out answers without raising her hand 6 times on October 14 (4 were correct) and 3 times on October 21. She tapped her pencil and rocked her chair during the lecture portion; when the co-teacher handed her a stress ball, the tapping stopped within a minute.

On October 21, the co-teacher chunked the 16-problem practice set into four cards of four problems, with a quick check after each card. Jada completed all four cards (14 of 16 correct) and asked to be the "answer checker" for her table. On October 14, without chunking, she completed 7 of 16 problems (5 correct).

Strengths observed: clear verbal explanations ("You flip the second fraction because dividing by a half is the same as asking how many halves fit"), leadership in partner work, and a good sense of humour that peers respond to. She engages most when tasks are hands-on or competitive, such as the integer card game on October 21.

Recommendations: keep direct instruction segments to about 10 minutes; chunk independent practice with brief checks; offer a fidget tool and a standing option at the back table; use a discreet nonverbal cue for calling out; and give Jada responsible roles during group work.`,
    },
    {
      kind: "PARENT_INPUT",
      title: "Parent input: medication, homework and organization at home",
      body: `Written by Jada's mother for the fall 2026 IEP progress meeting.

Jada is creative, funny and very social. She is in the school play this fall and memorized all her lines in a week, which tells me she can focus hard when something matters to her. She loves animals, helps at her aunt's dog grooming business on Saturdays, and says she wants to be a veterinarian or an actor.

The medication her doctor started in February has made a real difference in the mornings. Her teachers say she is calmer and gets more done. By late afternoon it has worn off, and homework is a battle. She will sit down, do two problems, get up for a snack, start texting a friend, and an hour later the worksheet is still half done. We now have a homework spot at the kitchen table, and her phone goes in a basket until she is finished, which helps some.

Math is where she feels the most frustrated. She told me, "I understand it when the teacher explains it, but then I forget the steps." Fractions and negative numbers have been especially hard. The small math group seems to be helping: her grade went from an F last spring to a C now, and she is proud of that.

Organization is our other big worry. She loses papers constantly, and three times this quarter she finished an assignment and then didn't turn it in. The daily planner check helps on the days it happens. An online list of assignments with due dates that we can see at home would help us a lot.

What we would like from this meeting: keep the math group, get help with long projects (she starts them the night before they are due), and maybe a second set of textbooks at home. We would also like Jada to be part of the meeting so she can say what works for her. She is old enough now to speak up for herself, and she does it well.`,
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// 4. Marcus Placeholder: grade 10, age 16, intellectual disability, transition planning
// ---------------------------------------------------------------------------------------------

const MARCUS: DemoStudent = {
  firstName: "Marcus",
  lastName: "Placeholder",
  dateOfBirth: "2010-01-18",
  grade: "10",
  disabilityCategories: ["INTELLECTUAL_DISABILITY"],
  primaryLanguage: "English",
  guardians: [
    { name: "Dana Placeholder", relationship: "mother", email: "dana.placeholder@example.org", phone: "(503) 555-0165" },
    { name: "Rowan Ellery", relationship: "stepfather", phone: "(503) 555-0188" },
  ],
  evidence: [
    {
      kind: "EVALUATION",
      title: "Reevaluation summary: cognitive, adaptive and academic functioning",
      body: `Reevaluation completed January 12 to 30, 2026 (Grade 9). Marcus turned 16 during the evaluation period. He has received special education services under the category of intellectual disability since grade 2, and he repeated kindergarten.

Cognitive (WISC-V, administered January 12 at age 15 years 11 months): Full Scale IQ 62 (1st percentile, extremely low range). Verbal Comprehension Index 66, Visual Spatial Index 70, Fluid Reasoning Index 68, Working Memory Index 64, Processing Speed Index 72. Results are consistent with his 2023 evaluation (Full Scale IQ 60), indicating stable cognitive functioning. Marcus was cooperative and persistent and asked for directions to be repeated when he needed it.

Adaptive behaviour (Vineland-3): parent form Adaptive Behavior Composite 65; Communication 68; Daily Living Skills 70; Socialization 72. Teacher form Adaptive Behavior Composite 63. Relative strengths include personal care, household chores and getting along with familiar adults. Needs include money management, time management, telephone and community safety skills, and understanding written information.

Academic achievement (WIAT-4): Word Reading 74 (approximately grade 3 level); Reading Comprehension 68 (approximately grade 2 to 3 level); Spelling 72; Numerical Operations 65; Math Problem Solving 66. Marcus adds and subtracts multi-digit numbers with a calculator, tells time on a digital clock, and identifies coins and bills. He recognizes about 120 functional sight words (for example EXIT, EMPLOYEES ONLY, POISON, and common menu words).

Communication: Marcus speaks in complete sentences and describes his weekend and interests in detail. He sometimes agrees to things he does not understand; explicit instruction in asking clarifying questions is recommended.

Summary: Marcus continues to meet eligibility criteria for intellectual disability, with significantly below-average intellectual functioning and concurrent deficits in adaptive behaviour, manifested during the developmental period. Because Marcus is now 16, his IEP must include appropriate measurable postsecondary goals based on age-appropriate transition assessments, and the transition services (including courses of study) needed to reach them. The team recommends transition assessment in employment, education and training, and independent living, and a referral to the state vocational rehabilitation agency.`,
    },
    {
      kind: "PRIOR_IEP",
      title: "Prior IEP excerpt (dated February 10, 2026): transition plan, goals and services",
      body: `IEP dated February 10, 2026 (Grade 9, age 16). This is Marcus's first IEP with a full transition plan.

Present levels (summary): Marcus recognizes about 120 functional sight words, uses a calculator for addition and subtraction, counts money up to $20, and completes a 10-step work routine with 5 steps done independently. He is friendly, punctual and motivated by work with animals. Adaptive behaviour is in the extremely low range (Vineland-3 Adaptive Behavior Composite 65), with needs in money management, time management and community safety.

Measurable postsecondary goals (initial; to be updated with fall 2026 transition assessment data):
- Employment: after high school, Marcus will work part time in a competitive integrated job in animal care, with supports as needed.
- Education/training: after high school, Marcus will complete a community-based job-training or adult education program related to animal care.
- Independent living: after high school, Marcus will use public transportation and manage a weekly budget with support.

Transition services: career exploration class (1 period daily); community-based instruction 2 x 90 minutes per week beginning fall 2026; travel training; money-management instruction; referral to vocational rehabilitation for pre-employment transition services by spring 2027. With parent consent, a vocational rehabilitation counselor will be invited to the next IEP meeting.

Course of study: functional academics, horticulture elective and community-based instruction; anticipated exit at age 21 after an 18-to-21 transition program.

Annual goals: functional money skills ("next dollar" strategy, baseline 40% accuracy); multi-step work routine with a picture checklist (baseline 5 of 10 steps independent); self-advocacy by requesting clarification (baseline 30% of opportunities); functional literacy (recognize 150 community and workplace sight words, baseline 120).

Services: specialized instruction in functional academics in a special class, 3 periods daily; general education for horticulture, physical education and lunch; speech-language consultation 30 minutes per month.

Accommodations: directions given one step at a time; picture checklists; calculator; text-to-speech; extended time. Marcus participates in the state alternate assessment.

Least restrictive environment: inside general education 40% to 79% of the day.`,
    },
    {
      kind: "ASSESSMENT",
      title: "Age-appropriate transition assessment: interests, vocational skills and independent living",
      body: `Completed September 8 to October 9, 2026 (Grade 10, age 16) by the transition coordinator and special education teacher, with input from Marcus, his family and the school greenhouse supervisor.

Student interview (September 8): Marcus said he wants to "work with animals, maybe at a vet or a pet store," earn his own money, and someday "live in an apartment with my friend." He would like to take a class after high school but is not sure what kind. He enjoys caring for the family's two dogs, watching cooking videos and playing basketball.

Vocational interest inventory (picture-based, September 10): highest interest areas were animal care (90th percentile), horticulture (84th) and food service (75th); lowest were clerical work and sales.

Situational work assessment: Marcus completed three weeks (12 sessions of 45 minutes) in the school greenhouse. He watered and transplanted seedlings with 85% task accuracy using a picture checklist, arrived on time for 11 of 12 sessions, and worked for about 20 minutes before needing a break or redirection. He asked for help appropriately in 6 of 8 observed situations. He needed prompts to check his work against the checklist and to start the next task without waiting.

Independent living skills checklist (teacher and parent ratings):
- Money: counts bills and coins up to $20 with 90% accuracy; uses the "next dollar" strategy with 60% accuracy; does not yet check his change.
- Time: uses phone alarms to wake up; needs reminders to leave on time.
- Cooking: prepares microwave meals and sandwiches independently; uses the stove only with supervision.
- Transportation: rides the city bus on a familiar route with an adult; does not yet plan new routes.
- Safety: states his address and a parent's phone number; is learning what information not to share online.
- Self-advocacy: names two accommodations that help him (directions one step at a time, picture checklists).

Summary and recommendations: Marcus shows strong, consistent interest in animal care and horticulture, reliable attendance and a positive work attitude. Recommended postsecondary goals: competitive integrated employment in animal care with supports; a community-based job-training or adult education program; and semi-independent living with support. Recommended transition services: community-based work experience at an animal shelter or kennel, travel training, money-management instruction, and a vocational rehabilitation referral for pre-employment transition services.`,
    },
    {
      kind: "PROGRESS_NOTE",
      title: "Progress note: functional money, work routine and self-advocacy goals, first quarter 2026-27",
      body: `Reporting period: August 26 to November 6, 2026. Goals from the IEP dated February 10, 2026.

Goal 1, functional money skills. By February 2027, given a price up to $20.00, Marcus will use the "next dollar" strategy to pay and will state the expected change, with 85% accuracy across 3 consecutive sessions. Baseline (February 2026): 40% accuracy. Data (10 trials per probe):
- September 15: 60%
- October 6: 70%
- October 27: 80%
- November 3 (community outing to a grocery store): 7 of 10 purchases correct
Marcus is confident with amounts under $10 and uses a calculator app to check his change. Progress: making sufficient progress.

Goal 2, multi-step work routine. By February 2027, using a picture-based task checklist, Marcus will independently complete a 10-step work routine (for example, cleaning and restocking a work area) in 4 of 5 opportunities. Baseline: 5 of 10 steps independent. Data from the school store and greenhouse:
- September: average of 6 of 10 steps independent
- October: average of 8 of 10 steps independent
- November 4: 9 of 10 steps independent (prompted only to sign the time log)
Progress: making sufficient progress.

Goal 3, self-advocacy. By February 2027, when he does not understand a direction, Marcus will request clarification or help using an appropriate phrase ("Can you show me again?") in 80% of opportunities. Baseline: 30%. Current: 6 of 10 observed opportunities (60%) in October. He still sometimes says "yes" when asked whether he understands, even when he does not; staff now ask him to repeat the direction back in his own words.

Goal 4, functional sight words. Baseline: 120 words. Current: 134 community and workplace words recognized on the November 5 probe, including "caution," "break room" and "clock in."

Notes: Marcus attended 96% of school days this quarter. In October the horticulture teacher named him greenhouse employee of the month, and he proudly showed the certificate to the IEP team.`,
    },
    {
      kind: "TEACHER_OBSERVATION",
      title: "Job-site observation: community-based instruction at an animal shelter",
      body: `Observer: transition coordinator, with notes from the job coach. Setting: community-based instruction at a local animal shelter (demo placement), Tuesdays and Thursdays from 9:00 to 10:30, observed October 20 and November 5, 2026.

Tasks: refilling water bowls in the dog kennel area (14 kennels), folding towels from the laundry, and restocking cat litter stations, following a laminated picture checklist.

Observed behaviours: on October 20, Marcus completed the water-bowl route in 18 minutes with 2 verbal prompts (to skip an empty kennel and to rinse a bowl that had food in it). On November 5 he completed the route in 13 minutes with no prompts and checked off each step on his checklist. He folded 30 towels in 20 minutes on November 5, meeting the shelter's volunteer standard of 25 to 30. He greeted shelter staff by name, followed the rule about never opening a kennel without staff present, and asked "What should I do next?" when he finished early instead of waiting silently, which was a goal area last year.

Challenges: when a staff member gave a three-part spoken direction ("Take these to the back, put them on the second shelf, and then tell the manager you're done"), Marcus completed the first part and then came back to ask what was next. Directions given one step at a time, or added to his checklist, were followed accurately. He became anxious when a dog barked loudly near him on October 20; he stepped back, took a deep breath, and continued after about one minute. He needed a reminder to wash his hands before his break.

Social: Marcus chatted appropriately with a volunteer about the dogs' names and was polite and friendly throughout. He told the job coach, "I want to do this for real when I finish school."

Recommendations: continue the placement through spring 2027 and add one new task (feeding under supervision); gradually fade job-coach proximity; provide multi-step directions in writing or pictures; and practice a short script for asking about paid job openings.`,
    },
    {
      kind: "PARENT_INPUT",
      title: "Parent input: hopes for life after high school",
      body: `Written by Marcus's mother and stepfather for the transition planning meeting, November 2026.

Marcus is the kindest person in our house. He gets up on his own, takes care of our two dogs every morning, and always notices when someone is having a bad day. He is proud of his work in the greenhouse and at the animal shelter, and he talks about it at dinner every night.

Our biggest hope is that Marcus will have a real job he enjoys, with a paycheck, and people around him who appreciate him. He has said for years that he wants to work with animals. We would love for the school to help him get experience at a vet clinic, kennel or pet store, and to help us connect with vocational rehabilitation before he graduates. We don't really understand what adult services exist or how the waiting lists work, and we worry about him sitting at home after school ends.

We also want him to be as independent as possible. At home he makes sandwiches and microwave meals, does his laundry with a reminder, and keeps his room clean. He can't manage money yet: he will hand a cashier a twenty for a pack of gum and walk away without his change. He has never taken the bus by himself. We would like travel training, and we would like to practice the same money steps at home that he is learning at school.

Someday we hope he can live in an apartment with a friend, with someone checking in on him. For now he will live with us.

We know Marcus turns 18 in January 2028, and the school has mentioned the transfer of rights at the age of majority. We have heard about guardianship but also about supported decision-making, and we would like information about both. Marcus should have as much say in his own life as possible. He knows what he wants, and we want to respect that.

Marcus would like to attend his IEP meeting and present his own slides about his job.`,
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// 5. Sofía Ejemplo: grade 3, speech or language impairment, English learner (Spanish)
// ---------------------------------------------------------------------------------------------

const SOFIA: DemoStudent = {
  firstName: "Sofía",
  lastName: "Ejemplo",
  dateOfBirth: "2018-04-03",
  grade: "3",
  disabilityCategories: ["SPEECH_OR_LANGUAGE_IMPAIRMENT"],
  primaryLanguage: "Spanish",
  guardians: [
    { name: "Lucía Ejemplo", relationship: "madre (mother)", email: "lucia.ejemplo@example.org", phone: "(503) 555-0199" },
  ],
  evidence: [
    {
      kind: "EVALUATION",
      title: "Bilingual speech-language evaluation summary",
      body: `Evaluation completed April 6 to 24, 2026 (Grade 2) by a bilingual Spanish-English speech-language pathologist. Sofía's primary home language is Spanish; she began learning English in kindergarten. Her parents and older brother speak Spanish at home. She passed a hearing screening bilaterally on April 6, and vision was within normal limits.

Reason for referral: her classroom and English language development (ELD) teachers noted that Sofía's oral language was developing more slowly than that of peers with similar language backgrounds and schooling, and her parents reported that she has difficulty telling stories and explaining events in Spanish as well.

English language proficiency: WIDA ACCESS for ELLs (spring 2026) overall composite 2.3 (Emerging); Listening 3.0; Speaking 1.8. Peers who entered kindergarten at the same time with similar backgrounds averaged 3.1 overall.

Standardized testing (interpreted with caution because norms may not fully represent dual language learners): CELF-4 Spanish Core Language 74 (4th percentile); CELF-5 (English) Core Language 70 (2nd percentile). Receptive One-Word Picture Vocabulary Test-4: Spanish-Bilingual Edition, with credit for responses in either language: standard score 88 (low average). Vocabulary knowledge is a relative strength when both languages are considered.

Language sample (Spanish, 50 utterances of narrative and conversation): mean length of utterance 4.1 words; 28% of utterances contained grammatical errors, including omitted articles, present tense used for past events, and gender and number agreement errors, which are not typical of Spanish-speaking children her age in her community. Her narrative retell included 2 of 7 story grammar elements (character and setting).

Dynamic assessment: after two mediated learning sessions on story retell, Sofía showed low modifiability; her narrative score increased from 2 to 3 elements, and she needed maximal support to apply the strategy.

Summary: Sofía presents with a receptive and expressive language disorder affecting both Spanish and English. Because the difficulties appear in her first language, are atypical compared with peers who have similar language experiences, and persisted with mediated instruction, they are not explained primarily by the process of learning English as an additional language. She meets eligibility criteria for speech or language impairment. Articulation and voice are within normal limits.

Recommendations: speech-language therapy with bilingual support, continued ELD services, visual supports for instruction, and home communication in Spanish.`,
    },
    {
      kind: "PROGRESS_NOTE",
      title: "Speech-language progress report: narrative, grammar and directions goals, fall 2026",
      body: `Reporting period: August 26 to November 13, 2026 (Grade 3). Services: speech-language therapy 2 x 30 minutes per week in a small group with bilingual support, plus 30 minutes per month of consultation with the classroom and ELD teachers. Goals from the IEP dated May 12, 2026.

Goal 1, narrative retell. By May 2027, after listening to a short story with picture support, Sofía will retell it including at least 5 of 7 story grammar elements (character, setting, problem, feelings, plan, actions, ending), in Spanish or English as she chooses, in 4 of 5 opportunities. Baseline: 2 of 7 elements. Data:
- September 2026: average of 3 of 7 elements
- October 2026: average of 4 of 7 elements
- November 2026: 4 of 7 elements on 3 of 4 trials; 5 of 7 on one trial (in Spanish)
Sofía now uses story grammar icons to plan her retell and consistently includes the problem. Feelings and the ending remain the hardest elements. Progress: making sufficient progress.

Goal 2, past-tense verbs. By May 2027, Sofía will correctly use regular past-tense verbs in English (-ed) and preterite verbs in Spanish during structured activities with 80% accuracy. Baseline: 40% in English, 55% in Spanish. Current (November 10 probe, 20 opportunities per language): 65% in English and 75% in Spanish. She self-corrects when given a visual cue (a "yesterday" arrow).

Goal 3, following multi-step directions with academic vocabulary. By May 2027, Sofía will follow 3-step directions containing grade-level concept words (for example before, after, except, between) with 80% accuracy. Baseline: 45%. Current: 70% (October 30 probe). She is most successful when directions are paired with a gesture or visual model.

Observations: Sofía participates more in the small group and now volunteers answers. She asks "Can you say it again?" about twice per session, a self-advocacy skill the team has encouraged. Her mother reports that she is retelling cartoon episodes at home in Spanish with more detail.

Recommendation: continue current services and share the story grammar icons with the classroom teacher for use during writing.`,
    },
    {
      kind: "TEACHER_OBSERVATION",
      title: "Classroom and ELD teacher observations, grade 3",
      body: `Combined notes from Sofía's grade 3 classroom teacher and her English language development (ELD) teacher, September to November 2026.

Participation: Sofía is attentive and hardworking. During whole-class discussions she rarely volunteers (0 to 1 times per 30-minute lesson) but answers when called on with a yes/no or one-word response. In small groups of three or four students she contributes more often, averaging 4 responses per 20-minute group, especially when sentence frames are posted ("I think ___ because ___"). When a Spanish-speaking partner is available, she explains her ideas in longer Spanish sentences and then attempts a shorter English version.

Following directions: during a science lab on October 8, Sofía completed the first of three spoken steps and then watched classmates to work out the rest. When the teacher posted the steps with pictures on October 15, she completed all three independently.

Vocabulary: Sofía learns new content words when they are taught with pictures, gestures and Spanish cognates (planeta/planet, energía/energy). On the weekly science vocabulary check she averaged 7 of 10 correct with visuals and 4 of 10 without.

Writing: her journal entries are 2 to 3 short sentences, usually in the present tense ("Yesterday I go to the park"). With a picture planner she wrote 5 sentences about her weekend on November 2.

Social: Sofía has two close friends, enjoys art and drawing, and is a reliable helper; as class plant monitor she has not missed a day. She sometimes appears frustrated when peers do not understand her and will stop talking rather than try again.

ELD: she is in the Emerging group for designated ELD (30 minutes daily). The ELD teacher notes that her listening is developing faster than her speaking and writing, and that she benefits from extra wait time of about 5 seconds.

Strategies that help: picture-supported directions, sentence frames, partner talk before whole-group sharing, extended wait time, previewing key vocabulary, and permission to use Spanish to plan her ideas.`,
    },
    {
      kind: "PARENT_INPUT",
      title: "Parent input (given in Spanish with an interpreter; English translation)",
      body: `Provided by Sofía's mother during a home visit on October 20, 2026, with a district interpreter. The case manager reviewed the notes with her in Spanish to confirm they were accurate.

"Sofía is a very loving girl. She helps me with her little brother, she loves to draw and paint, and she dances to the music at our family parties. She is very organized with her things.

At home we speak only Spanish. Even in Spanish, Sofía has trouble telling me what happened at school. She says 'we did the thing with the... the thing' and gets frustrated. Her older brother, who is 11, explains things easily, and sometimes he answers for her, which we are working on. When she was little she started talking later than her brothers. Her first words came at about 2 years old, and she did not put words together until almost 3.

Since she started speech therapy last spring, I see that she is trying more. Last week she told me the whole story of a movie, with the beginning and the end, and I was very proud. She likes the pictures the speech teacher sends home.

I want her to learn English well, but I also want her to keep Spanish so she can talk with her grandparents. I was worried that speaking Spanish at home was the cause of her difficulties. The speech teacher explained that it is good to keep speaking Spanish with her, and that helps me a lot.

My questions: How can I help her at home? Can the school send activities in Spanish? Will she always need speech therapy?

Please send papers and messages in Spanish, and call me in the afternoon after 3:00, because I work in the mornings."`,
    },
  ],
};

export const DEMO_STUDENTS: DemoStudent[] = [NORA, OWEN, JADA, MARCUS, SOFIA];
