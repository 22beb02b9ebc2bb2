namespace DataPrep.Data;

/// <summary>
/// How a double becomes a float32 tensor value, in one place: the RecordIO-protobuf writer
/// (<c>RecordIOProtobufFormat</c>'s <c>ToFloat32</c> and chunk images) and the split spill that stores such columns as
/// float32 (<see cref="BatchSpillWriter"/>) both read it from here.
/// </summary>
/// <remarks>
/// A value is written as <c>(float)v</c> (round to nearest even; −0 stays −0, values below float32's smallest
/// subnormal become ±0), NaN as the canonical quiet NaN, ±infinity as ±infinity; a finite double beyond float32's range
/// (one that rounds to infinity) is an error the writer reports with its row. So for every value that is not such an
/// error, <c>(double)(float)v</c> is written exactly as <c>v</c> is (a float widened to double narrows back to itself, a
/// NaN stays a NaN): a column the writer only reads as float32 may be kept as float32, unless it holds such a value.
/// </remarks>
internal static class Float32Rule
{
    /// <summary>Whether <paramref name="v"/> is finite but <paramref name="narrowed"/> (<c>(float)v</c>) is infinite: out of float32's range.</summary>
    public static bool OutOfRange(double v, float narrowed) => float.IsInfinity(narrowed) && !double.IsInfinity(v);
}
