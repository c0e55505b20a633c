import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultGeneratedText } from "../src/gemini/simulator/generation.ts";
import { generate, studentWithEvidence, waitForStatus } from "./helpers/generation.ts";
import { startTestStack, type TestStack } from "./helpers/stack.ts";

describe("one repair request for a draft that fails validation", () => {
  let stack: TestStack;
  let studentId: string;

  beforeAll(async () => {
    stack = await startTestStack();
    studentId = await studentWithEvidence(stack);
  });
  afterAll(async () => {
    stack.simulator.setGenerateHandler(undefined);
    await stack?.close();
  });

  it("asks the model once with the validation errors and saves the repaired draft, in the same attempt", async () => {
    const prompts: string[] = [];
    stack.simulator.setGenerateHandler((request) => {
      prompts.push(request.promptText);
      const valid = JSON.parse(defaultGeneratedText(request.body));
      // The first answer cites a chunk the model was never shown; the repair answers correctly.
      if (prompts.length === 1) valid.presentLevels.academicAchievement[0].citations = ["00000000-0000-4000-8000-000000000000"];
      return valid;
    });
    const generation = await generate(stack, { studentId });
    const done = await waitForStatus(stack, generation.id, ["SUCCEEDED", "FAILED"]);

    expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 1, error: null });
    const stages = done.events.map((e: { stage: string }) => e.stage);
    expect(stages.filter((s: string) => s === "REPAIRING")).toHaveLength(1);
    expect(stages).not.toContain("WAITING_TO_RETRY");
    expect(stages.indexOf("REPAIRING")).toBeLessThan(stages.indexOf("SAVING"));
    expect(prompts).toHaveLength(2);
    expect(prompts[1]).toContain("rejected by validation");
    expect(prompts[1]).toContain("00000000-0000-4000-8000-000000000000");
    expect(prompts[1]).toContain(prompts[0]);
    // Nothing invalid was stored: every citation of the saved IEP resolves to a chunk of this student.
    const citations = done.iep.sections.flatMap((s: { citations: { chunkId: string; chunk: { id: string } | null }[] }) => s.citations);
    expect(citations.length).toBeGreaterThan(0);
    expect(citations.map((c: { chunkId: string }) => c.chunkId)).not.toContain("00000000-0000-4000-8000-000000000000");
    expect(citations.every((c: { chunk: unknown }) => c.chunk !== null)).toBe(true);
  });
});
