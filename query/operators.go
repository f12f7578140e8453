package query

// The aggregation allow-lists (§2.8, §3.12). Anything not listed here is
// refused: in particular $lookup, $graphLookup and $unionWith (they read
// other collections, including users with password hashes), $out and
// $merge (they write), $function, $accumulator and $where (server-side
// JavaScript), $collStats, $indexStats, $currentOp, $listSessions,
// $planCacheStats, $documents, $changeStream (server internals), $range
// (unbounded memory), and system variables other than $$ROOT, $$CURRENT,
// $$REMOVE and $$NOW.

// stageNames are the allowed stages, in the order error messages list them.
var stageNames = []string{
	"$match", "$group", "$sort", "$project", "$limit", "$skip", "$count",
	"$unwind", "$addFields", "$set", "$unset", "$replaceRoot", "$replaceWith",
	"$sortByCount", "$sample", "$facet",
}

// blockedWrites are the stages the original refused with its own message.
var blockedWrites = map[string]bool{"$out": true, "$merge": true}

// notInFacet are stages MongoDB does not allow inside $facet.
var notInFacet = map[string]bool{"$facet": true}

// fieldOps are the query operators allowed on a field in $match.
var fieldOps = setOf(
	"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists",
	"$regex", "$options", "$not", "$elemMatch", "$size", "$all", "$type", "$mod",
)

// accumulators are the allowed $group accumulators. The embedded FerretDB
// implements only some ($sum, $count, $first, $last, $push, $addToSet,
// $min); see Pipeline.Uses and Pipeline.MultiAccumulatorGroup.
var accumulators = setOf(
	"$sum", "$avg", "$min", "$max", "$first", "$last", "$push", "$addToSet", "$count",
)

// exprOps are the allowed aggregation expression operators.
var exprOps = setOf(
	// literals and variables
	"$literal", "$let",
	// arithmetic
	"$add", "$subtract", "$multiply", "$divide", "$mod", "$abs", "$ceil", "$floor",
	"$round", "$trunc", "$sqrt", "$pow", "$exp", "$ln", "$log", "$log10",
	// comparison and boolean
	"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$cmp", "$and", "$or", "$not",
	// conditional
	"$cond", "$ifNull", "$switch",
	// strings
	"$concat", "$substr", "$substrBytes", "$substrCP", "$toLower", "$toUpper",
	"$trim", "$ltrim", "$rtrim", "$split", "$strLenBytes", "$strLenCP",
	"$indexOfBytes", "$indexOfCP", "$strcasecmp", "$regexMatch", "$regexFind",
	"$regexFindAll", "$replaceOne", "$replaceAll",
	// arrays and objects
	"$size", "$arrayElemAt", "$in", "$filter", "$map", "$reduce", "$concatArrays",
	"$slice", "$first", "$last", "$isArray", "$reverseArray", "$indexOfArray",
	"$arrayToObject", "$objectToArray", "$mergeObjects",
	// types
	"$toString", "$toInt", "$toLong", "$toDouble", "$toDecimal", "$toBool",
	"$toDate", "$toObjectId", "$type", "$convert", "$isNumber",
	// dates
	"$year", "$month", "$dayOfMonth", "$dayOfWeek", "$dayOfYear", "$hour",
	"$minute", "$second", "$millisecond", "$week", "$isoWeek", "$isoWeekYear",
	"$isoDayOfWeek", "$dateToString", "$dateFromString", "$dateToParts",
	"$dateFromParts", "$dateTrunc", "$dateAdd", "$dateSubtract", "$dateDiff",
	// accumulators usable as expressions
	"$sum", "$avg", "$min", "$max",
)

// systemVars are the $$ variables an expression may read; user variables
// (from $let, $map, $filter, $reduce) start with a lower-case letter.
var systemVars = setOf("ROOT", "CURRENT", "REMOVE", "NOW")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
