import { describe, expect, it } from "vitest";
import { Pseudonymizer, type PrivacyRecord } from "../src/privacy/pseudonymize.ts";
import { createStreamRestorer } from "../src/privacy/stream.ts";
import { SetStudentGuardiansInput } from "../src/services/guardians.ts";

const RECORD: PrivacyRecord = {
  student: { firstName: "Zephyrine", lastName: "Quillfeather", dateOfBirth: "2016-03-01" },
  guardians: [
    { name: "Octavian Quillfeather", email: "octavian.q@example.com", phone: "503-555-0142", address: "42 Larkspur Lane, Portland, OR 97214" },
    { name: "Marisol Ferreira-Quintero", phone: "+44 20 7946 0958" },
  ],
  staffNames: ["Jordan Casewell (demo case manager)", "Dr. Priya Raman", "Will Ada"],
};

const PLACEHOLDER = /\[[A-Z][A-Z0-9_]*\]/g;

function masked(text: string, record: PrivacyRecord = RECORD): string {
  return new Pseudonymizer(record).mask(text);
}

describe("Pseudonymizer: names known to the record", () => {
  it("replaces the student's first, last and full name, possessives and any case", () => {
    const out = masked("Zephyrine Quillfeather read aloud. Zephyrine's rate rose; Zephyrine’s accuracy too. ZEPHYRINE QUILLFEATHER, zephyrine.");
    expect(out).toBe("[STUDENT] [STUDENT_LAST] read aloud. [STUDENT]'s rate rose; [STUDENT]’s accuracy too. [STUDENT] [STUDENT_LAST], [STUDENT].");
  });

  it("gives guardians and staff their own placeholders, in full and by part", () => {
    const out = masked("Octavian Quillfeather and Marisol Ferreira-Quintero met Jordan Casewell. Octavian asked Ms. Ferreira Quintero; Mr. Quillfeather agreed. Dr. Raman and Priya attended.");
    expect(out).toBe(
      "[GUARDIAN_1] and [GUARDIAN_2] met [STAFF_1]. [GUARDIAN_1_FIRST] asked Ms. [GUARDIAN_2_LAST]; Mr. [STUDENT_LAST] agreed. Dr. [STAFF_2_LAST] and [STAFF_2_FIRST] attended.",
    );
    expect(out).not.toMatch(/demo|case manager/i);
  });

  it("never replaces a name inside another word", () => {
    const record: PrivacyRecord = { student: { firstName: "Ada", lastName: "Lin", dateOfBirth: "2015-09-01" } };
    const out = masked("Ada and Adams flew from Canada; Adaline, ADA accommodations, Lindsay and Berlin. Ada's tablet, Lin's pen.", record);
    expect(out).toBe("[STUDENT] and Adams flew from Canada; Adaline, ADA accommodations, Lindsay and Berlin. [STUDENT]'s tablet, [STUDENT_LAST]'s pen.");
  });

  it("matches a name that is also a word only Capitalised, so 'will' and 'may' stay", () => {
    const record: PrivacyRecord = { student: { firstName: "May", lastName: "Will", dateOfBirth: "2015-09-01" } };
    expect(masked("May Will said she will try; she may need breaks. Will May read?", record)).toBe(
      "[STUDENT] [STUDENT_LAST] said she will try; she may need breaks. [STUDENT_LAST] [STUDENT] read?",
    );
  });

  it("handles unicode names: accents, their absence, decomposed text, names in unspaced scripts", () => {
    const record: PrivacyRecord = {
      student: { firstName: "Zoë", lastName: "Ñúñez-Ødegård", dateOfBirth: "2014-02-28" },
      staffNames: ["王小明"],
    };
    const out = masked("Zoë, ZOË and Zoe; Nunez-Odegard, Ñúñez Ødegård and Zoe\u0308. 王小明老师 met Zoëy. ADA and IEP stay.", record);
    expect(out).toBe("[STUDENT], [STUDENT] and [STUDENT]; [STUDENT_LAST], [STUDENT_LAST] and [STUDENT]. [STAFF_1]老师 met Zoëy. ADA and IEP stay.");
    expect(new Pseudonymizer(record).restore(out)).toContain("Zoë, Zoë and Zoë; Ñúñez-Ødegård");
  });
});

describe("Pseudonymizer: the date of birth and other identifying dates", () => {
  it.each([
    "2016-03-01", "2016/3/1", "03/01/2016", "3/1/2016", "3-1-16", "01.03.2016", "March 1, 2016", "Mar. 1st, 2016",
    "march 1 2016", "1 March 2016", "the 1st of March, 2016", "1 Mar 2016",
  ])("replaces the date of birth written %s", (written) => {
    expect(masked(`Born ${written}; evaluated 2025-10-12.`)).toBe("Born [DATE_OF_BIRTH]; evaluated 2025-10-12.".replace(
      "[DATE_OF_BIRTH]", written.startsWith("the ") ? "the [DATE_OF_BIRTH]" : "[DATE_OF_BIRTH]",
    ));
  });

  it("keeps ordinary dates but replaces any date given as a birth date", () => {
    expect(masked("Evaluated on March 3, 2025 and 10/12/2025. Sibling DOB: 04/05/2013; brother born on 5 May 2018."))
      .toBe("Evaluated on March 3, 2025 and 10/12/2025. Sibling DOB: [DATE_1]; brother born on [DATE_2].");
  });
});

describe("Pseudonymizer: contact details, ids and addresses", () => {
  it("gives one phone number one placeholder whatever its format; other countries too", () => {
    const out = masked("Call (503) 555-0142, 503.555.0142, +1 503 555 0142 or 5035550142; abroad +44 20 7946 0958; cell 971-555-0100.");
    expect(out).toBe("Call [PHONE_1], [PHONE_1], [PHONE_1] or [PHONE_1]; abroad [PHONE_2]; cell [PHONE_3].");
  });

  it("replaces emails (case-insensitively the same), ids, SSNs and street addresses", () => {
    const out = masked(
      "Email Octavian.Q@Example.com or octavian.q@example.com or z.q+school@mail.example.org. Student ID: S-20391847 (state id 9912-3345, SASID 20391847, SSN 123-45-6789). "
      + "Lives at 42 Larkspur Lane, Portland, OR 97214; mail to 7 N. Birch Street Apt 3 or PO Box 118. On Larkspur Lane since 2019.",
    );
    expect(out).toBe(
      "Email [EMAIL_1] or [EMAIL_1] or [EMAIL_2]. Student ID: [ID_1] (state id [ID_2], SASID [ID_3], SSN [ID_4]). "
      + "Lives at [ADDRESS_1]; mail to [ADDRESS_2] or [ADDRESS_3]. On [ADDRESS_1] since 2019.",
    );
  });

  it("leaves scores, years, school years and chunk ids alone", () => {
    const text = "chunk: 3f2a1b4c-1234-4abc-8def-123456789012\nWIAT-4 standard score 82; 44 wcpm, 92% accuracy, 14 of 20; the 2025-2026 school year; state testing in 2026; 3 points on the court.";
    expect(masked(text)).toBe(text);
  });
});

describe("Pseudonymizer: stable placeholders and restoring them", () => {
  it("is stable within one instance, idempotent, and restores every value", () => {
    const p = new Pseudonymizer(RECORD);
    const first = p.mask("Zephyrine called 971-555-0100 from zq@example.net on 03/01/2016.");
    const second = p.mask("Zephyrine's other note: 971.555.0100, ZQ@example.net.");
    expect(first).toBe("[STUDENT] called [PHONE_3] from [EMAIL_2] on [DATE_OF_BIRTH].");
    expect(second).toBe("[STUDENT]'s other note: [PHONE_3], [EMAIL_2].");
    expect(p.mask(first)).toBe(first);
    expect(p.mask("[ZEPHYRINE] [QUILLFEATHER_1] [STUDENT_LAST] Zephyrine_Quillfeather_eval.pdf"))
      .toBe("[[STUDENT]] [[STUDENT_LAST]_1] [STUDENT_LAST] [STUDENT]_[STUDENT_LAST]_eval.pdf");
    expect(p.restore(first)).toBe("Zephyrine called 971-555-0100 from zq@example.net on 03/01/2016.");
    expect(p.restore("[student] and [GUARDIAN_1] at [ADDRESS_1]; [UNKNOWN_9] stays")).toBe(
      "Zephyrine and Octavian Quillfeather at 42 Larkspur Lane, Portland, OR 97214; [UNKNOWN_9] stays",
    );
  });

  it("restores every string of a JSON value, and JSON text in a way that still parses", () => {
    const record: PrivacyRecord = { student: { firstName: "Zephyrine", lastName: "Quillfeather", dateOfBirth: "2016-03-01" }, staffNames: ["Ana \\ Ruiz"] };
    const p = new Pseudonymizer(record);
    const draft = { presentLevels: { items: [{ text: "[STUDENT] reads well", citations: ["3f2a1b4c-1234-4abc-8def-123456789012"] }] }, n: 3, none: null };
    expect(p.restoreDeep(draft)).toEqual({ ...draft, presentLevels: { items: [{ ...draft.presentLevels.items[0], text: "Zephyrine reads well" }] } });
    expect(JSON.parse(p.restoreJsonText(JSON.stringify({ by: p.mask("Ana \\ Ruiz") })))).toEqual({ by: "Ana \\ Ruiz" });
  });
});

describe("createStreamRestorer", () => {
  const p = new Pseudonymizer(RECORD);
  p.mask("Octavian Quillfeather, Zephyrine");
  const TEXT = '{"text":"[GUARDIAN_1] says [STUDENT]\'s goal [is] met [UNKNOWN] ["}';
  const EXPECTED = '{"text":"Octavian Quillfeather says Zephyrine\'s goal [is] met [UNKNOWN] ["}';

  it("holds a placeholder split across pieces until it completes", () => {
    const restorer = createStreamRestorer((text) => p.restore(text));
    expect(restorer.push('{"text":"[GUARD')).toBe('{"text":"');
    expect(restorer.push("IAN_")).toBe("");
    expect(restorer.push("1] says [")).toBe("Octavian Quillfeather says ");
    expect(restorer.push("STUDENT]'s")).toBe("Zephyrine's");
    expect(restorer.end()).toBe("");
  });

  it("gives the same text for every way of splitting the stream, with no placeholder ever sent", () => {
    for (let a = 0; a <= TEXT.length; a++) {
      for (const b of [a, Math.min(TEXT.length, a + 1), Math.min(TEXT.length, a + 7)]) {
        const restorer = createStreamRestorer((text) => p.restore(text));
        const sent = [restorer.push(TEXT.slice(0, a)), restorer.push(TEXT.slice(a, b)), restorer.push(TEXT.slice(b)), restorer.end()];
        expect(sent.join("")).toBe(EXPECTED);
        for (const piece of sent) expect(piece.match(PLACEHOLDER)?.filter((ph) => ph !== "[UNKNOWN]") ?? []).toEqual([]);
      }
    }
  });

  it("lets go of a '[' that cannot be a placeholder, and reset drops what it held", () => {
    const restorer = createStreamRestorer((text) => p.restore(text));
    expect(restorer.push("see [note")).toBe("see ");
    expect(restorer.push(" 4] ok")).toBe("[note 4] ok");
    expect(restorer.push("[STUD")).toBe("");
    restorer.reset();
    expect(restorer.push("fresh")).toBe("fresh");
    expect(restorer.end()).toBe("");
  });
});

describe("setStudentGuardians input", () => {
  const studentId = "0b6c7f0e-2f1a-4c55-9d1e-6a7b8c9d0e1f";

  it("accepts guardians with optional contact details, blank ones as null", () => {
    const parsed = SetStudentGuardiansInput.parse({
      studentId,
      guardians: [{ name: " Octavian Quillfeather ", relationship: "father", email: "octavian.q@example.com", phone: "(503) 555-0142", address: " " }],
    });
    expect(parsed.guardians).toEqual([
      { name: "Octavian Quillfeather", relationship: "father", email: "octavian.q@example.com", phone: "(503) 555-0142", address: null },
    ]);
  });

  it.each([
    ["an empty name", { name: " ", relationship: "mother" }, "name"],
    ["a bad email", { name: "A B", relationship: "mother", email: "not-an-email" }, "email"],
    ["a bad phone", { name: "A B", relationship: "mother", phone: "12" }, "phone"],
  ])("rejects %s", (_label, guardian, field) => {
    const result = SetStudentGuardiansInput.safeParse({ studentId, guardians: [guardian] });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).toContain(`guardians.0.${field}`);
  });
});

describe("demo data", () => {
  it("gives every demo student guardians that setStudentGuardians accepts", async () => {
    const { DEMO_STUDENTS } = await import("../src/cli/demo-data.ts");
    for (const student of DEMO_STUDENTS) {
      expect(student.guardians.length).toBeGreaterThan(0);
      const parsed = SetStudentGuardiansInput.safeParse({ studentId: "0b6c7f0e-2f1a-4c55-9d1e-6a7b8c9d0e1f", guardians: student.guardians });
      expect(parsed.error?.issues ?? []).toEqual([]);
    }
  });
});
