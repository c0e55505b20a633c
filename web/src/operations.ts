import { graphql } from "./gql/index.ts";

/** The signed-in user (also how a pasted token is checked). */
export const WebMe = graphql(`
  query WebMe {
    me { id name email role school { id name } }
  }
`);

export const WebStudents = graphql(`
  query WebStudents($after: String) {
    students(first: 100, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id fullName grade age } }
    }
  }
`);

/** One student with their evidence, IEP versions and latest generations. */
export const WebStudent = graphql(`
  query WebStudent($id: ID!) {
    student(id: $id) {
      id fullName grade age disabilityCategories primaryLanguage
      evidence { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } }
      ieps { id version status academicYear createdAt }
    }
    generations(first: 5, filter: { studentId: $id }) {
      edges { node { id status stage progress createdAt kind } }
    }
    evidenceUploadLimits { maxBytes maxPages }
  }
`);

/** Adds typed text (`body`) or a file (`file`: sent as a multipart request, by urql's fetchExchange). */
export const WebAddEvidence = graphql(`
  mutation WebAddEvidence($input: AddEvidenceInput!) {
    addEvidence(input: $input) {
      __typename
      ... on AddEvidenceSuccess { evidence { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on Error { message }
    }
  }
`);

/** A fresh download URL of a document's original file (each is valid for 5 minutes). */
export const WebEvidenceDownloadUrl = graphql(`
  query WebEvidenceDownloadUrl($id: ID!) {
    evidence(id: $id) { id source { downloadUrl } }
  }
`);

/**
 * A student's evidence as each document's status changes (PENDING → READY or FAILED), and while
 * a file is read: its stage (EXTRACTING, then EMBEDDING) and pages done.
 */
export const WebEvidenceStatus = graphql(`
  subscription WebEvidenceStatus($studentId: ID!) {
    evidenceStatusChanged(studentId: $studentId) { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } }
  }
`);

export const WebGenerate = graphql(`
  mutation WebGenerate($input: GenerateIepInput!) {
    generateIep(input: $input) {
      __typename
      ... on GenerateIepSuccess { generation { id status stage progress message queuePosition estimatedCompletionAt lastSeq } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on RateLimitedError { message retryAfter }
      ... on Error { message }
    }
  }
`);

/** A generation's state, read when the page opens it (each such read is audited as VIEWED). */
export const WebGeneration = graphql(`
  query WebGeneration($id: ID!) {
    generation(id: $id) {
      id status stage progress message error attempts maxAttempts lastSeq
      queuePosition estimatedCompletionAt startedAt finishedAt createdAt kind
      student { id fullName }
      iep { id }
    }
  }
`);

/**
 * The same fields for re-reads while the page watches (queue position, status changes): read from
 * the student's recent generations, as `generation(id)` records a VIEWED audit entry per read.
 */
export const WebGenerationRecheck = graphql(`
  query WebGenerationRecheck($studentId: ID!) {
    generations(first: 50, filter: { studentId: $studentId }) {
      edges {
        node {
          id status stage progress message error attempts maxAttempts lastSeq
          queuePosition estimatedCompletionAt startedAt finishedAt createdAt kind
          student { id fullName }
          iep { id }
        }
      }
    }
  }
`);

/** Stored events after `afterSeq`, then live ones (text deltas included), until the terminal one. */
export const WebGenerationEvents = graphql(`
  subscription WebGenerationEvents($id: ID!, $afterSeq: Int) {
    generationEvents(id: $id, afterSeq: $afterSeq) { seq status stage progress message textDelta at }
  }
`);

export const WebCancel = graphql(`
  mutation WebCancel($id: ID!) {
    cancelGeneration(id: $id) {
      __typename
      ... on CancelGenerationSuccess { generation { id status } }
      ... on Error { message }
    }
  }
`);

export const WebRetry = graphql(`
  mutation WebRetry($id: ID!) {
    retryGeneration(id: $id) {
      __typename
      ... on GenerateIepSuccess { generation { id status stage progress message queuePosition estimatedCompletionAt lastSeq } }
      ... on Error { message }
    }
  }
`);

/**
 * An IEP with every section, who wrote each (AI or a person), and each citation's chunk (text,
 * position, document) or `missing`; its review state, print URL, versions and what changed since
 * the previous version.
 */
export const WebIep = graphql(`
  query WebIep($id: ID!) {
    iep(id: $id) {
      id version revision status academicYear model createdAt
      meetingDate effectiveDate annualReviewDate
      printUrl submittedAt submittedBy { id name } approvedAt approvedBy { id name }
      content
      template { id version extraItems { key label section } }
      student { id fullName }
      versions { id version status }
      diff { kind change changedPaths }
      sections {
        id kind label content missingCitations
        provenance { source model promptVersion editedAt editedBy { id name } changedPaths }
        citations { chunkId missing chunk { id ordinal page text evidence { id title kind } } }
      }
    }
  }
`);

/** A fresh print URL (each is valid for 5 minutes). */
export const WebPrintUrl = graphql(`
  query WebPrintUrl($id: ID!) {
    iep(id: $id) { id printUrl }
  }
`);

/** The school's IEP templates, for the Generate form. */
export const WebTemplates = graphql(`
  query WebTemplates {
    iepTemplates { id name isDefault }
  }
`);

/** Replaces a section's content; an edit of a FINAL IEP starts a new DRAFT version (returned). */
export const WebEditSection = graphql(`
  mutation WebEditSection($input: EditIepSectionInput!) {
    editIepSection(input: $input) {
      __typename
      ... on EditIepSectionSuccess { iep { id } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on Error { message }
    }
  }
`);

export const WebSubmitForReview = graphql(`
  mutation WebSubmitForReview($id: ID!) {
    submitIepForReview(id: $id) {
      __typename
      ... on IepReviewSuccess { iep { id status } }
      ... on Error { message }
    }
  }
`);

export const WebApprove = graphql(`
  mutation WebApprove($id: ID!) {
    approveIep(id: $id) {
      __typename
      ... on IepReviewSuccess { iep { id status } }
      ... on Error { message }
    }
  }
`);
