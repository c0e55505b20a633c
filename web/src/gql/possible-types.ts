
      export type PossibleTypesResultData = {
  "possibleTypes": {
    "AddEvidencePayload": [
      "AddEvidenceSuccess",
      "NotFoundError",
      "ValidationError"
    ],
    "AssignStudentPayload": [
      "AssignStudentSuccess",
      "NotFoundError",
      "ValidationError"
    ],
    "CancelGenerationPayload": [
      "CancelGenerationSuccess",
      "InvalidStateError",
      "NotFoundError"
    ],
    "CreateStudentPayload": [
      "CreateStudentSuccess",
      "ValidationError"
    ],
    "EditIepSectionPayload": [
      "EditIepSectionSuccess",
      "InvalidStateError",
      "NotFoundError",
      "ValidationError"
    ],
    "Error": [
      "InvalidStateError",
      "NotFoundError",
      "RateLimitedError",
      "ValidationError"
    ],
    "GenerateIepPayload": [
      "GenerateIepSuccess",
      "InvalidStateError",
      "NotFoundError",
      "RateLimitedError",
      "ValidationError"
    ],
    "GenerateIepsPayload": [
      "GenerateIepsSuccess",
      "NotFoundError",
      "RateLimitedError",
      "ValidationError"
    ],
    "IepReviewPayload": [
      "IepReviewSuccess",
      "InvalidStateError",
      "NotFoundError"
    ],
    "IepTemplatePayload": [
      "IepTemplateSuccess",
      "InvalidStateError",
      "NotFoundError",
      "ValidationError"
    ],
    "SetStudentGuardiansPayload": [
      "NotFoundError",
      "SetStudentGuardiansSuccess",
      "ValidationError"
    ],
    "UnassignStudentPayload": [
      "NotFoundError",
      "UnassignStudentSuccess",
      "ValidationError"
    ]
  }
};
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "AddEvidencePayload": [
      "AddEvidenceSuccess",
      "NotFoundError",
      "ValidationError"
    ],
    "AssignStudentPayload": [
      "AssignStudentSuccess",
      "NotFoundError",
      "ValidationError"
    ],
    "CancelGenerationPayload": [
      "CancelGenerationSuccess",
      "InvalidStateError",
      "NotFoundError"
    ],
    "CreateStudentPayload": [
      "CreateStudentSuccess",
      "ValidationError"
    ],
    "EditIepSectionPayload": [
      "EditIepSectionSuccess",
      "InvalidStateError",
      "NotFoundError",
      "ValidationError"
    ],
    "Error": [
      "InvalidStateError",
      "NotFoundError",
      "RateLimitedError",
      "ValidationError"
    ],
    "GenerateIepPayload": [
      "GenerateIepSuccess",
      "InvalidStateError",
      "NotFoundError",
      "RateLimitedError",
      "ValidationError"
    ],
    "GenerateIepsPayload": [
      "GenerateIepsSuccess",
      "NotFoundError",
      "RateLimitedError",
      "ValidationError"
    ],
    "IepReviewPayload": [
      "IepReviewSuccess",
      "InvalidStateError",
      "NotFoundError"
    ],
    "IepTemplatePayload": [
      "IepTemplateSuccess",
      "InvalidStateError",
      "NotFoundError",
      "ValidationError"
    ],
    "SetStudentGuardiansPayload": [
      "NotFoundError",
      "SetStudentGuardiansSuccess",
      "ValidationError"
    ],
    "UnassignStudentPayload": [
      "NotFoundError",
      "UnassignStudentSuccess",
      "ValidationError"
    ]
  }
};
      export default result;
    