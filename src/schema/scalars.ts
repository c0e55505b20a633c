import { DateTimeResolver, JSONResolver, LocalDateResolver } from "graphql-scalars";
import { builder } from "../builder.ts";

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("LocalDate", LocalDateResolver);
builder.addScalarType("JSON", JSONResolver);
