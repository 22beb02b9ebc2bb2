namespace DataPrep.Fluent;

/// <summary>Shuffling and splitting.</summary>
public static class SplitExtensions
{
    /// <summary>Shuffles inside each split by hash(seed, "shuffle", row id); the seed also drives the split.</summary>
    public static DataPrepBuilder Shuffle(this DataPrepBuilder b, ulong seed = 42) => b.With(o => o with { Seed = seed, Shuffle = true });

    /// <summary>Keeps input order inside each split (the split itself stays random by seed).</summary>
    public static DataPrepBuilder KeepOrder(this DataPrepBuilder b, ulong seed = 42) => b.With(o => o with { Seed = seed, Shuffle = false });

    /// <summary>Exact random split (80/10/10 of 1,000 rows is 800/100/100), optionally stratified by a column.</summary>
    public static DataPrepBuilder SplitRandom(this DataPrepBuilder b, double train = 0.8, double validation = 0.1, double test = 0.1, string? stratifyBy = null)
        => b.With(o => o with { Train = train, Validation = validation, Test = test, Stratify = stratifyBy });
}
