// Type-level comparison of our generated router types (types/enghub-api.ts)
// with the AppRouter of the TypeScript API we ported. Nothing here runs:
// report.mjs (started by run.sh) lists the original's procedure paths, writes a
// checks.ts with one `ProcedureCheck<path>` statement per procedure, compiles
// both and prints the verdicts. The original's source is never part of this
// repository; run.sh
// maps the module "enghub-compare-original" to a generated shim that
// re-exports the original's AppRouter as `OriginalRouter`.
//
// For every procedure path of the original router we compare, as a client
// sees them (inferRouterInputs / inferRouterOutputs, i.e. after tRPC's
// Serialize<> for a router without a transformer):
//   - the procedure type (query / mutation / subscription),
//   - the input type and the output type: the same shape (SameShape below):
//     scalars mutually assignable, the same property names and optional
//     properties at every depth (plain mutual assignability would let a
//     missing optional key pass), JSON values by their outline.
// `any` on either side (e.g. a z.any() field) matches anything.

import type {
  AnyTRPCProcedure,
  AnyTRPCRouter,
  inferRouterError,
  inferRouterInputs,
  inferRouterOutputs,
} from "@trpc/server";
import type { OriginalRouter } from "enghub-compare-original";
import type { AppRouter as OurRouter } from "../../../types/enghub-api";

// ── generic helpers ──────────────────────────────────────────────────────────

type IsAny<T> = 0 extends 1 & T ? true : false;
type IsNever<T> = [T] extends [never] ? true : false;
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

type NonObject =
  | string
  | number
  | boolean
  | bigint
  | symbol
  | null
  | undefined
  | void
  | readonly unknown[]
  | ((...args: never[]) => unknown);
/** The plain-object members of a (possibly union) type. */
type ObjectPart<T> = T extends NonObject ? never : T;
/** The element types of the array members of a (possibly union) type. */
type ElementPart<T> = T extends readonly (infer E)[] ? E : never;
/**
 * Every key of every member of a union (keyof of a union is only the common
 * keys). Symbol keys are left out: JSON has none, and zod's flattened errors
 * carry a symbol index signature a hand-written type need not repeat.
 */
type AllKeys<T> = T extends unknown ? Exclude<keyof T, symbol> : never;
type PropOf<T, K extends PropertyKey> = T extends unknown
  ? K extends keyof T
    ? T[K]
    : never
  : never;

type Deeper<D extends unknown[]> = [...D, 0];

/** All true? (an empty union counts as all true) */
type AllTrue<U> = false extends U ? false : true;

/** Has an index-signature object member: a JSON value (Prisma Json columns, z.record). */
type IsJsonLike<T> = string extends AllKeys<ObjectPart<T>> ? true : false;
type Leaves<T> = Exclude<T, object>;
type IndexValue<T> = T extends NonObject ? never : string extends keyof T ? T[string & keyof T] : never;

/**
 * JSON values are recursive, and tRPC's Serialize<> of Prisma's JsonValue
 * unfolds without end: comparing them whole exceeds the compiler's
 * instantiation depth. Compare their outline instead, three levels deep: the
 * same scalar members (string, number, boolean, null, undefined), an array
 * member on both sides or neither, and the same again for the array elements
 * and the index-signature values.
 */
type SameJsonShape<A, B, D extends unknown[] = []> = IsAny<A> extends true
  ? true
  : IsAny<B> extends true
    ? true
    : Mutual<Leaves<A>, Leaves<B>> extends false
      ? false
      : Mutual<IsNever<ElementPart<A>>, IsNever<ElementPart<B>>> extends false
        ? false
        : Mutual<IsJsonLike<A>, IsJsonLike<B>> extends false
          ? false
          : D["length"] extends 3
            ? true
            : AllTrue<
                | SameJsonShape<IndexValue<ObjectPart<A>>, IndexValue<ObjectPart<B>>, Deeper<D>>
                | (IsNever<ElementPart<A>> extends true ? true : SameJsonShape<ElementPart<A>, ElementPart<B>, Deeper<D>>)
              >;

/** The optional keys of each member of a union. */
type OptionalKeys<T> = T extends unknown
  ? Exclude<{ [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T], symbol>
  : never;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type IsUnion<T> = [T] extends [UnionToIntersection<T>] ? false : true;

/**
 * Same shape, compared structurally from the outside in (never the whole
 * types at once, which would unfold the JSON values inside them): the same
 * scalar members (mutually assignable), an object member on both sides or
 * neither with the same property names and the same optional ones, each
 * property of the same shape, and the same for array elements; JSON values by
 * their outline (SameJsonShape). Past depth 10, plain mutual assignability.
 */
export type SameShape<A, B, D extends unknown[] = []> = IsAny<A> extends true
  ? true
  : IsAny<B> extends true
    ? true
    : true extends IsJsonLike<A> | IsJsonLike<B>
      ? SameJsonShape<A, B>
      : D["length"] extends 10
        ? Mutual<A, B>
        : Mutual<Leaves<A>, Leaves<B>> extends false
          ? false
          : Mutual<IsNever<ObjectPart<A>>, IsNever<ObjectPart<B>>> extends false
            ? false
            : Mutual<IsNever<ElementPart<A>>, IsNever<ElementPart<B>>> extends false
              ? false
              : Mutual<AllKeys<ObjectPart<A>>, AllKeys<ObjectPart<B>>> extends false
                ? false
                : Mutual<OptionalKeys<ObjectPart<A>>, OptionalKeys<ObjectPart<B>>> extends false
                  ? false
                  : true extends IsUnion<ObjectPart<A>> | IsUnion<ObjectPart<B>>
                    ? Mutual<ObjectPart<A>, ObjectPart<B>> // several object members: compared whole
                    : AllTrue<
                        | {
                            [K in AllKeys<ObjectPart<A>>]: SameShape<
                              PropOf<ObjectPart<A>, K>,
                              PropOf<ObjectPart<B>, K>,
                              Deeper<D>
                            >;
                          }[AllKeys<ObjectPart<A>>]
                        | (IsNever<ElementPart<A>> extends true
                            ? true
                            : SameShape<ElementPart<A>, ElementPart<B>, Deeper<D>>)
                      >;

// ── router paths ─────────────────────────────────────────────────────────────

declare const missing: unique symbol;
/** Stands for "this path does not exist in that router". */
export type Missing = typeof missing;

type RecordOf<R extends AnyTRPCRouter> = R["_def"]["record"];

/** "a.b.c" paths of every procedure in a router record. */
type ProcedurePaths<Rec, Prefix extends string = ""> = {
  [K in keyof Rec & string]: Rec[K] extends AnyTRPCProcedure
    ? `${Prefix}${K}`
    : Rec[K] extends object
      ? ProcedurePaths<Rec[K], `${Prefix}${K}.`>
      : never;
}[keyof Rec & string];

type At<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? At<T[Head], Rest>
    : Missing
  : P extends keyof T
    ? T[P]
    : Missing;

type KindOf<X> = X extends AnyTRPCProcedure ? X["_def"]["type"] : Missing;

export type OriginalPaths = ProcedurePaths<RecordOf<OriginalRouter>>;
export type OurPaths = ProcedurePaths<RecordOf<OurRouter>>;

type OriginalInputs = inferRouterInputs<OriginalRouter>;
type OriginalOutputs = inferRouterOutputs<OriginalRouter>;
type OurInputs = inferRouterInputs<OurRouter>;
type OurOutputs = inferRouterOutputs<OurRouter>;

/** "ok", or both types side by side. */
export type Verdict<Original, Ours> = SameShape<Original, Ours> extends true
  ? "ok"
  : { mismatch: true; original: Original; ours: Ours };

/** kind / input / output of one procedure: "ok", "n/a", "missing in ours" or both types. */
export type ProcedureReport<P extends string> =
  KindOf<At<RecordOf<OurRouter>, P>> extends Missing
    ? { kind: "missing in ours"; input: "n/a"; output: "n/a" }
    : {
        kind: Verdict<KindOf<At<RecordOf<OriginalRouter>, P>>, KindOf<At<RecordOf<OurRouter>, P>>>;
        input: Verdict<At<OriginalInputs, P>, At<OurInputs, P>>;
        output: Verdict<At<OriginalOutputs, P>, At<OurOutputs, P>>;
      };

type AllOk = { kind: "ok"; input: "ok"; output: "ok" };

/**
 * "ok", or the procedure's name with its report. report.mjs generates one
 * statement per procedure of the original with this type:
 *   export const check_N: ProcedureCheck<"person.list"> = "ok";
 * One statement each, not one mapped type over every path, because the
 * compiler's instantiation budget is per statement: comparing all of the
 * Prisma-derived outputs in a single type overflows it ("Type instantiation is
 * excessively deep"), and the overflowed parts silently turn into `any`.
 */
export type ProcedureCheck<P extends OriginalPaths> =
  ProcedureReport<P> extends AllOk ? "ok" : { procedure: P } & ProcedureReport<P>;

export type ProceduresOnlyInOurs = Exclude<OurPaths, OriginalPaths>;

type TransformerOf<R extends AnyTRPCRouter> = R["_def"]["_config"]["$types"]["transformer"];

// ── the assertions (each fails to compile with the offending names/types) ───

/** The harness itself works: the original resolved to real types, not any. */
export const originalRouterIsTyped: IsAny<OriginalInputs> extends true
  ? "the original's AppRouter resolved to any: the harness is broken"
  : IsNever<OriginalPaths> extends true
    ? "the original's AppRouter has no procedures: the harness is broken"
    : "ok" = "ok";
export const ourRouterIsTyped: IsAny<OurInputs> extends true
  ? "our AppRouter resolved to any"
  : "ok" = "ok";

/** "none", or the names themselves (re-mapped so that tsc prints them, not an alias). */
type Listed<U> = IsNever<U> extends true ? "none" : { [K in U & string]: K }[U & string];

export const proceduresOnlyInOurs: Listed<ProceduresOnlyInOurs> = "none";

/** Router-level settings a client depends on; read by report.mjs. */
export type RouterReport = {
  transformer: Verdict<TransformerOf<OriginalRouter>, TransformerOf<OurRouter>>;
  /** TRPCClientError<AppRouter>["shape"] on the client (the original adds data.zodError). */
  errorShape: Verdict<inferRouterError<OriginalRouter>, inferRouterError<OurRouter>>;
};
export const transformer: RouterReport["transformer"] = "ok";
export const errorShape: RouterReport["errorShape"] = "ok";
