// DataPrep sample-data generator: a .NET 10 file-based app with no NuGet packages.
//
//   dotnet run sample-data/Generate.cs            (from the repo root; writes next to this script)
//   dotnet run sample-data/Generate.cs -- DIR     (writes into DIR instead)
//
// The output must be byte-identical on every machine, OS and future runtime, so this script:
//   * uses its own PRNG (xoshiro256** seeded by SplitMix64), never System.Random;
//   * computes sin/cos/exp/log with its own series (only +, -, *, / and sqrt, which IEEE 754
//     rounds exactly), because Math.Sin/Exp/Log may differ in the last bit between C runtimes;
//   * turns every number into a scaled integer before printing it (no culture, no "R" format);
//   * writes gzip with its own small DEFLATE encoder (fixed Huffman + LZ77) and a fixed header,
//     because GZipStream's bytes depend on the bundled zlib version and on the OS byte in the header;
//   * writes UTF-8 without BOM, LF line endings and a trailing newline.
// Each data set draws from its own seed, so changing one leaves the others' bytes alone.

using System.IO.Compression;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

if (args.Length > 1 || (args.Length == 1 && args[0] is "-h" or "--help"))
{
    Console.Error.WriteLine("usage: dotnet run sample-data/Generate.cs [-- OUTPUT_DIR]");
    return 2;
}

string outDir = args.Length == 1
    ? args[0]
    : AppContext.GetData("EntryPointFileDirectoryPath") as string ?? Script.Directory();
Directory.CreateDirectory(outDir);

var demand = DemandData.Generate();
var churn = ChurnData.Generate();
var sensors = SensorData.Generate();
var speakers = SpeakerPool.Generate();
var utterances = SpeechData.Generate(speakers);
var pair = SpeechPairData.Generate(speakers);

Console.WriteLine($"writing to {Path.GetFullPath(outDir)}");
Output.Write(outDir, "demand.csv", Output.Utf8(demand.Text), demand.Rows);
Output.Write(outDir, "churn.csv", Output.Utf8(churn.Csv), churn.Rows);
Output.Write(outDir, "churn.jsonl", Output.Utf8(churn.JsonLines), churn.JsonRows);
Output.Write(outDir, "sensors.csv.gz", Gzip.Compress(Output.Utf8(sensors.Text)), sensors.Rows);
Output.Write(outDir, "speech/utterances.csv", Output.Utf8(utterances.Text), utterances.Rows);
Output.Write(outDir, "speech/clean.csv", Output.Utf8(pair.Clean), pair.CleanRows);
Output.Write(outDir, "speech/noisy.csv", Output.Utf8(pair.Noisy), pair.NoisyRows);
return 0;

/// <summary>Where this script lives (fallback when the file-based-app AppContext switch is absent).</summary>
static class Script
{
    public static string Directory([CallerFilePath] string path = "") =>
        Path.GetDirectoryName(path) is { Length: > 0 } dir ? dir : "sample-data";
}

/// <summary>Writes one output file and prints its row count, size and SHA-256.</summary>
static class Output
{
    static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] Utf8(string text)
    {
        if (text.Contains('\r'))
        {
            throw new InvalidOperationException("output must use LF line endings only");
        }
        if (!text.EndsWith('\n'))
        {
            throw new InvalidOperationException("output must end with a newline");
        }
        return Utf8NoBom.GetBytes(text);
    }

    public static void Write(string dir, string name, byte[] bytes, int rows)
    {
        string path = Path.Combine(dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        string hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Console.WriteLine($"{hash}  {bytes.Length,8} bytes  {rows,5} rows  {name}");
    }
}

/// <summary>xoshiro256** seeded through SplitMix64: a fixed, documented sequence for any seed.</summary>
sealed class Rng
{
    ulong _s0, _s1, _s2, _s3;

    public Rng(ulong seed)
    {
        ulong sm = seed;
        _s0 = SplitMix64(ref sm);
        _s1 = SplitMix64(ref sm);
        _s2 = SplitMix64(ref sm);
        _s3 = SplitMix64(ref sm);
    }

    static ulong SplitMix64(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextU64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextU64() >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>Uniform in (0, 1]: safe to take the log of.</summary>
    public double NextDoubleNonZero() => ((NextU64() >> 11) + 1) * (1.0 / 9007199254740992.0);

    /// <summary>Uniform integer in [0, n) (Lemire's multiply-high; bias below 2^-40 for our n).</summary>
    public int NextInt(int n) => (int)Math.BigMul(NextU64(), (ulong)n, out _);

    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Standard normal by Box-Muller (one value per call, the sine branch is dropped).</summary>
    public double Normal() =>
        Math.Sqrt(-2.0 * DetMath.Log(NextDoubleNonZero())) * DetMath.Cos(DetMath.TwoPi * NextDouble());

    /// <summary>Poisson by Knuth's product method (fine for the means used here, up to ~700).</summary>
    public int Poisson(double mean)
    {
        if (mean > 700)
        {
            return Math.Max(0, (int)Math.Round(mean + Math.Sqrt(mean) * Normal()));
        }
        double limit = DetMath.Exp(-mean);
        double product = NextDouble();
        int k = 0;
        while (product > limit)
        {
            product *= NextDouble();
            k++;
        }
        return k;
    }

    /// <summary>Index drawn with the given (not necessarily normalised) weights.</summary>
    public int Pick(double[] weights)
    {
        double total = 0;
        foreach (double w in weights)
        {
            total += w;
        }
        double u = NextDouble() * total;
        for (int i = 0; i < weights.Length - 1; i++)
        {
            u -= weights[i];
            if (u < 0)
            {
                return i;
            }
        }
        return weights.Length - 1;
    }
}

/// <summary>
/// sin, cos, exp and log from +, -, *, / only, so every platform computes the same bits.
/// Accurate to a few ulp over the small arguments this script uses.
/// </summary>
static class DetMath
{
    public const double Pi = 3.141592653589793;
    public const double TwoPi = 6.283185307179586;
    const double HalfPi = 1.5707963267948966;
    const double Ln2 = 0.6931471805599453;

    public static double Sin(double x)
    {
        double r = x - Math.Round(x / TwoPi) * TwoPi;   // [-pi, pi]
        if (r > HalfPi)
        {
            r = Pi - r;
        }
        else if (r < -HalfPi)
        {
            r = -Pi - r;
        }
        double r2 = r * r;
        double acc = 1.0;
        for (int n = 23; n >= 3; n -= 2)
        {
            acc = 1.0 - r2 / ((n - 1) * n) * acc;
        }
        return r * acc;
    }

    public static double Cos(double x) => Sin(x + HalfPi);

    public static double Exp(double x)
    {
        if (x < -745)
        {
            return 0.0;
        }
        double k = Math.Round(x / Ln2);
        double r = x - k * Ln2;                          // |r| <= ln2/2
        double acc = 1.0;
        for (int n = 20; n >= 1; n--)
        {
            acc = 1.0 + r / n * acc;
        }
        return Math.ScaleB(acc, (int)k);
    }

    public static double Log(double x)
    {
        if (!(x > 0) || double.IsInfinity(x) || !double.IsNormal(x))
        {
            throw new ArgumentOutOfRangeException(nameof(x), "Log needs a positive normal number");
        }
        long bits = BitConverter.DoubleToInt64Bits(x);
        int e = (int)((bits >> 52) & 0x7FF) - 1023;
        double m = BitConverter.Int64BitsToDouble((bits & 0xFFFFFFFFFFFFFL) | 0x3FF0000000000000L); // [1, 2)
        if (m > 1.4142135623730951)
        {
            m *= 0.5;
            e++;
        }
        double s = (m - 1.0) / (m + 1.0);                // |s| < 0.172
        double s2 = s * s;
        double acc = 1.0 / 29;
        for (int k = 13; k >= 0; k--)
        {
            acc = 1.0 / (2 * k + 1) + s2 * acc;
        }
        return e * Ln2 + 2.0 * s * acc;
    }

    /// <summary>x^p for x &gt; 0.</summary>
    public static double Pow(double x, double p) => Exp(p * Log(x));

    public static double Logistic(double z) => 1.0 / (1.0 + Exp(-z));
}

/// <summary>Number formatting from scaled integers: no culture, no shortest-round-trip algorithm.</summary>
static class Fmt
{
    static readonly long[] Pow10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

    /// <summary>Rounds x to the given decimals (half away from zero) as an integer count of units.</summary>
    public static long Units(double x, int decimals) =>
        (long)Math.Round(x * Pow10[decimals], MidpointRounding.AwayFromZero);

    /// <summary>Prints units / 10^decimals with exactly that many decimals ("-0.00" never appears).</summary>
    public static string Fixed(long units, int decimals)
    {
        if (decimals == 0)
        {
            return Int(units);
        }
        ulong abs = units < 0 ? (ulong)(-units) : (ulong)units;
        ulong pow = (ulong)Pow10[decimals];
        string frac = (abs % pow).ToString(System.Globalization.CultureInfo.InvariantCulture)
            .PadLeft(decimals, '0');
        return (units < 0 ? "-" : "") + (abs / pow).ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + frac;
    }

    public static string Fixed(double x, int decimals) => Fixed(Units(x, decimals), decimals);

    public static string Int(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Bool(bool value) => value ? "true" : "false";

    public static string Date(DateOnly d) =>
        Int(d.Year).PadLeft(4, '0') + "-" + Int(d.Month).PadLeft(2, '0') + "-" + Int(d.Day).PadLeft(2, '0');

    /// <summary>A JSON string literal (the values here are plain ASCII, but escape properly anyway).</summary>
    public static string JsonString(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}

/// <summary>
/// demand.csv: daily demand of five products over 2024-01-01..2025-12-31, sorted by date then product.
/// demand ~ Poisson(base * trend * weekday * season * price^-elasticity * promo * temperature * noise).
/// </summary>
static class DemandData
{
    sealed record Product(
        string Id,
        double BasePrice,      // reference price the elasticity is measured against
        double BaseDemand,     // units/day at the reference price, average weekday and season
        double Elasticity,     // demand ~ (price / BasePrice)^-Elasticity
        double PromoUplift,    // multiplier on promo days (display/ads), on top of the price cut
        double YearlyAmp,      // relative amplitude of the yearly cycle
        int PeakDayOfYear,     // day of year when the yearly cycle peaks
        double TempCoef,       // relative demand change per degree C above 12 C
        double TrendPerYear,   // linear growth per year
        double[] Weekday);     // Monday..Sunday multipliers

    static readonly Product[] Products =
    [
        // bread-like staple: weekend shopping peak, little seasonality, weak price response
        new("P001", 2.49, 120, 0.6, 1.15, 0.05, 355, -0.002, 0.03, [0.95, 0.92, 0.94, 1.00, 1.12, 1.22, 0.85]),
        // ice cream: strong summer peak, heat-driven, price-sensitive, big promo response
        new("P002", 4.99, 40, 1.6, 1.45, 0.45, 200, 0.030, 0.05, [0.85, 0.82, 0.86, 0.95, 1.10, 1.32, 1.10]),
        // soup: winter product, cold-driven, slowly declining
        new("P003", 3.29, 35, 1.1, 1.30, 0.35, 20, -0.015, -0.06, [1.05, 1.02, 1.02, 1.00, 0.95, 0.96, 1.00]),
        // premium coffee: December gift peak, growing, promos work well
        new("P004", 12.99, 18, 1.3, 1.60, 0.10, 350, 0.000, 0.15, [1.00, 0.98, 0.98, 1.00, 1.05, 1.06, 0.93]),
        // sparkling water: mild summer peak, cheap, steady
        new("P005", 1.19, 80, 0.5, 1.20, 0.18, 205, 0.012, 0.02, [0.98, 0.96, 0.97, 1.00, 1.06, 1.10, 0.93]),
    ];

    static readonly double[] Discounts = [0.10, 0.15, 0.20, 0.25];

    public static (string Text, int Rows) Generate()
    {
        var rng = new Rng(0x00D3_3A4D_2024_0001UL);
        var start = new DateOnly(2024, 1, 1);
        var end = new DateOnly(2025, 12, 31);
        int days = end.DayNumber - start.DayNumber + 1;

        var regularCents = new long[Products.Length];
        var promoDaysLeft = new int[Products.Length];
        var promoDiscount = new double[Products.Length];

        var sb = new StringBuilder();
        sb.Append("date,product,price,promo,temperature,demand\n");
        int rows = 0;
        double weather = 0;   // AR(1) deviation from the seasonal temperature

        for (int d = 0; d < days; d++)
        {
            DateOnly date = start.AddDays(d);
            int doy = date.DayOfYear;
            int weekday = ((int)date.DayOfWeek + 6) % 7;   // Monday = 0

            // One city, one temperature per day: seasonal curve + persistent weather noise.
            weather = 0.7 * weather + 2.2 * rng.Normal();
            double seasonalTemp = 11.0 + 9.5 * DetMath.Sin(DetMath.TwoPi * (doy - 110) / 365.25);
            long tempTenths = Fmt.Units(seasonalTemp + weather, 1);
            double temperature = tempTenths / 10.0;

            bool quarterStart = d == 0 || (date.Day == 1 && date.Month % 3 == 1);
            for (int p = 0; p < Products.Length; p++)
            {
                Product prod = Products[p];

                // Shelf price is revised each quarter (+4% list-price rise in 2025) and ends in 9.
                if (quarterStart)
                {
                    double revision = Math.Clamp(1.0 + 0.025 * rng.Normal(), 0.94, 1.06);
                    double inflation = date.Year >= 2025 ? 1.04 : 1.0;
                    regularCents[p] = EndIn9(Fmt.Units(prod.BasePrice * revision * inflation, 2));
                }

                // Promotions run 3..7 days with a 10..25% discount.
                if (promoDaysLeft[p] == 0 && rng.Chance(0.03))
                {
                    promoDaysLeft[p] = 3 + rng.NextInt(5);
                    promoDiscount[p] = Discounts[rng.NextInt(Discounts.Length)];
                }
                bool promo = promoDaysLeft[p] > 0;
                long priceCents = regularCents[p];
                if (promo)
                {
                    promoDaysLeft[p]--;
                    priceCents = Math.Min(EndIn9(Fmt.Units(priceCents * (1.0 - promoDiscount[p]) / 100.0, 2)), priceCents - 10);
                }
                double price = priceCents / 100.0;

                double mean = prod.BaseDemand
                    * (1.0 + prod.TrendPerYear * d / 365.25)
                    * prod.Weekday[weekday]
                    * (1.0 + prod.YearlyAmp * DetMath.Cos(DetMath.TwoPi * (doy - prod.PeakDayOfYear) / 365.25))
                    * DetMath.Pow(price / prod.BasePrice, -prod.Elasticity)
                    * (promo ? prod.PromoUplift : 1.0)
                    * Math.Max(0.2, 1.0 + prod.TempCoef * (temperature - 12.0))
                    * DetMath.Exp(0.08 * rng.Normal());
                int demand = rng.Poisson(mean);

                sb.Append(Fmt.Date(date)).Append(',')
                  .Append(prod.Id).Append(',')
                  .Append(Fmt.Fixed(priceCents, 2)).Append(',')
                  .Append(Fmt.Bool(promo)).Append(',')
                  .Append(Fmt.Fixed(tempTenths, 1)).Append(',')
                  .Append(Fmt.Int(demand)).Append('\n');
                rows++;
            }
        }
        return (sb.ToString(), rows);
    }

    static long EndIn9(long cents) => cents - cents % 10 + 9;
}

/// <summary>
/// churn.csv (+ churn.jsonl, its first 200 rows): one row per customer, label "yes"/"no" last.
/// churn ~ Bernoulli(logistic(plan + region + support calls - tenure - autopay + bill shock)).
/// </summary>
static class ChurnData
{
    const int RowCount = 2000;
    const int JsonRowCount = 200;

    static readonly string[] Plans = ["basic", "plus", "pro", "enterprise"];
    static readonly double[] PlanWeights = [0.46, 0.29, 0.18, 0.07];
    static readonly double[] PlanPrice = [19.99, 39.99, 79.99, 299.00];
    static readonly double[] PlanMeanTenure = [14, 20, 26, 38];
    static readonly double[] PlanSupportRate = [1.9, 1.5, 1.2, 2.2];
    static readonly double[] PlanAutopay = [0.45, 0.60, 0.72, 0.88];
    static readonly double[] PlanChurnEffect = [0.45, 0.10, -0.25, -0.90];

    static readonly string[] Regions = ["eu", "us", "apac"];
    static readonly double[] RegionWeights = [0.42, 0.36, 0.22];
    static readonly double[] RegionPriceFactor = [1.00, 1.08, 0.92];
    static readonly double[] RegionChurnEffect = [0.00, 0.15, 0.30];

    const double Intercept = -1.3;

    public static (string Csv, int Rows, string JsonLines, int JsonRows) Generate()
    {
        var rng = new Rng(0x00C4_0B2E_2024_0002UL);
        var csv = new StringBuilder();
        var json = new StringBuilder();
        csv.Append("customer_id,plan,region,tenure_months,monthly_spend,support_calls,autopay,churn\n");

        for (int i = 1; i <= RowCount; i++)
        {
            int plan = rng.Pick(PlanWeights);
            int region = rng.Pick(RegionWeights);
            int tenure = Math.Min(72, 1 + (int)Math.Floor(-DetMath.Log(rng.NextDoubleNonZero()) * PlanMeanTenure[plan]));
            double usage = DetMath.Exp(0.22 * rng.Normal());           // add-ons / overage, lognormal
            long spendCents = Math.Max(500, Fmt.Units(PlanPrice[plan] * RegionPriceFactor[region] * usage, 2));
            double billRatio = spendCents / 100.0 / (PlanPrice[plan] * RegionPriceFactor[region]);
            int supportCalls = rng.Poisson(PlanSupportRate[plan] * (tenure <= 6 ? 1.4 : 1.0));
            bool autopay = rng.Chance(PlanAutopay[plan]);

            double z = Intercept
                + PlanChurnEffect[plan]
                + RegionChurnEffect[region]
                + 0.45 * supportCalls
                - 0.045 * tenure
                - 0.85 * (autopay ? 1 : 0)
                + 1.2 * Math.Max(0.0, billRatio - 1.2);                  // bill shock
            bool churn = rng.Chance(DetMath.Logistic(z));

            string id = "C" + Fmt.Int(i).PadLeft(5, '0');
            string spend = Fmt.Fixed(spendCents, 2);
            string label = churn ? "yes" : "no";

            csv.Append(id).Append(',')
               .Append(Plans[plan]).Append(',')
               .Append(Regions[region]).Append(',')
               .Append(Fmt.Int(tenure)).Append(',')
               .Append(spend).Append(',')
               .Append(Fmt.Int(supportCalls)).Append(',')
               .Append(Fmt.Bool(autopay)).Append(',')
               .Append(label).Append('\n');

            if (i <= JsonRowCount)
            {
                // Same keys in the same order; numbers keep the CSV's exact text (e.g. 23.50).
                json.Append("{\"customer_id\":").Append(Fmt.JsonString(id))
                    .Append(",\"plan\":").Append(Fmt.JsonString(Plans[plan]))
                    .Append(",\"region\":").Append(Fmt.JsonString(Regions[region]))
                    .Append(",\"tenure_months\":").Append(Fmt.Int(tenure))
                    .Append(",\"monthly_spend\":").Append(spend)
                    .Append(",\"support_calls\":").Append(Fmt.Int(supportCalls))
                    .Append(",\"autopay\":").Append(Fmt.Bool(autopay))
                    .Append(",\"churn\":").Append(Fmt.JsonString(label))
                    .Append("}\n");
            }
        }
        return (csv.ToString(), RowCount, json.ToString(), JsonRowCount);
    }
}

/// <summary>
/// sensors.csv.gz: binary label first, then ten float features with different roles:
/// s0, s2, s8 informative; s1 correlated with s0; s3, s9 offset/large scale; s4 bounded;
/// s5 label changes the variance; s6 skewed (lognormal); s7 pure noise.
/// </summary>
static class SensorData
{
    const int RowCount = 1000;

    public static (string Text, int Rows) Generate()
    {
        var rng = new Rng(0x005E_4503_2024_0003UL);
        var sb = new StringBuilder();
        sb.Append("label,s0,s1,s2,s3,s4,s5,s6,s7,s8,s9\n");
        var s = new double[10];
        for (int i = 0; i < RowCount; i++)
        {
            int label = rng.Chance(0.4) ? 1 : 0;
            s[0] = rng.Normal() + 1.2 * label;
            s[1] = 0.8 * s[0] + 0.6 * rng.Normal();
            s[2] = rng.Normal() - 0.9 * label;
            s[3] = 10.0 + 2.0 * rng.Normal();
            s[4] = rng.NextDouble();
            s[5] = (label == 1 ? 1.8 : 0.8) * rng.Normal();
            s[6] = DetMath.Exp(0.5 * rng.Normal() + 0.3 * label);
            s[7] = rng.Normal();
            s[8] = 0.5 * s[2] + 0.5 * rng.Normal() + 0.3 * label;
            s[9] = 1000.0 + 50.0 * rng.Normal() + 40.0 * label;

            sb.Append(Fmt.Int(label));
            foreach (double v in s)
            {
                sb.Append(',').Append(Fmt.Fixed(v, 4));
            }
            sb.Append('\n');
        }
        return (sb.ToString(), RowCount);
    }
}

/// <summary>
/// The 1,000 speakers shared by the speech files (spk0001 … spk1000): an accent, which is the label, and a
/// speaking rate. The pool has its own seed, so utterances.csv and clean.csv/noisy.csv agree on who a speaker is.
/// </summary>
sealed record Speaker(string Id, string Accent, double WordsPerSecond);

static class SpeakerPool
{
    public const int Count = 1000;

    static readonly string[] Accents = ["en-US", "en-GB", "en-IN", "en-AU", "en-IE"];
    static readonly double[] AccentWeights = [0.40, 0.25, 0.17, 0.11, 0.07];
    static readonly double[] AccentRate = [1.00, 0.96, 1.07, 0.98, 1.03];   // mean speaking-rate multiplier

    public static Speaker[] Generate()
    {
        var rng = new Rng(0x005B_EA4E_2024_0004UL);
        var speakers = new Speaker[Count];
        for (int i = 0; i < Count; i++)
        {
            int accent = rng.Pick(AccentWeights);
            double rate = Math.Clamp(2.6 * AccentRate[accent] + 0.3 * rng.Normal(), 1.7, 3.6);
            speakers[i] = new Speaker("spk" + Fmt.Int(i + 1).PadLeft(4, '0'), Accents[accent], rate);
        }
        return speakers;
    }
}

/// <summary>Short voice-assistant-style pseudo-sentences (lower case, no punctuation) and their spoken durations.</summary>
static class Utterance
{
    static readonly string[] Verbs = ["open", "close", "check", "clean", "lock", "unlock", "start", "stop"];
    static readonly string[] Nouns = ["window", "door", "light", "oven", "kettle", "heater", "fridge", "radio", "garage", "shutter"];
    static readonly string[] Adjectives = ["old", "new", "small", "big", "front", "back", "upstairs", "blue"];
    static readonly string[] Rooms = ["kitchen", "hallway", "garden", "office", "bedroom", "basement"];
    static readonly string[] Topics = ["weather", "time", "forecast", "score", "news", "traffic"];
    static readonly string[] When = ["today", "tomorrow", "tonight", "now", "later", "this morning", "this evening", "next week"];
    static readonly string[] Numbers = ["two", "three", "five", "ten", "fifteen", "twenty", "thirty", "forty"];
    static readonly string[] Names = ["anna", "ben", "carla", "david", "emma", "farid", "grace", "hugo"];

    public static string Transcript(Rng rng)
    {
        string Pick(string[] words) => words[rng.NextInt(words.Length)];
        return rng.NextInt(7) switch
        {
            0 => Pick(Verbs) + " the " + Pick(Nouns) + (rng.Chance(0.5) ? " in the " + Pick(Rooms) : ""),
            1 => "please " + Pick(Verbs) + " the " + Pick(Adjectives) + " " + Pick(Nouns),
            2 => "what is the " + Pick(Topics) + " " + Pick(When),
            3 => "set a timer for " + Pick(Numbers) + " minutes",
            4 => "call " + Pick(Names) + " " + Pick(When),
            5 => "how long does the " + Pick(Nouns) + " take",
            _ => "remind me to " + Pick(Verbs) + " the " + Pick(Nouns) + " " + Pick(When),
        };
    }

    /// <summary>Seconds of audio: the words at the speaker's rate, plus leading/trailing silence and jitter.</summary>
    public static long DurationCentis(Rng rng, string transcript, Speaker speaker)
    {
        int words = 1;
        foreach (char c in transcript)
        {
            if (c == ' ')
            {
                words++;
            }
        }
        double seconds = words / speaker.WordsPerSecond + 0.35 + 0.45 * rng.NextDouble() + 0.06 * rng.Normal();
        return Fmt.Units(Math.Max(0.6, seconds), 2);
    }
}

/// <summary>
/// speech/utterances.csv: a speech-style input list, 5 utterances for each of the 1,000 speakers, sorted by
/// speaker then utterance. The label (accent) is a property of the speaker, so a random row split lets a
/// model recognise speakers it has already heard: the case for a group split by speaker_id.
/// </summary>
static class SpeechData
{
    public const int UtterancesPerSpeaker = 5;

    public static (string Text, int Rows) Generate(Speaker[] speakers)
    {
        var rng = new Rng(0x005E_EC40_2024_0005UL);
        var sb = new StringBuilder();
        sb.Append("path,speaker_id,transcript,duration_s,label\n");
        int rows = 0;
        foreach (var speaker in speakers)
        {
            for (int u = 1; u <= UtterancesPerSpeaker; u++)
            {
                string transcript = Utterance.Transcript(rng);
                long centis = Utterance.DurationCentis(rng, transcript, speaker);
                sb.Append("audio/").Append(speaker.Id).Append("/utt").Append(Fmt.Int(u)).Append(".wav,")
                  .Append(speaker.Id).Append(',')
                  .Append(transcript).Append(',')
                  .Append(Fmt.Fixed(centis, 2)).Append(',')
                  .Append(speaker.Accent).Append('\n');
                rows++;
            }
        }
        return (sb.ToString(), rows);
    }
}

/// <summary>
/// speech/clean.csv and speech/noisy.csv: the same speakers recorded clean and with added noise. A seeded
/// shuffle makes 300 speakers clean-only, 300 noisy-only and 400 both; each has 2–4 utterances per file it
/// is in, numbered on from the clean ones, so no utterance is in both files. noisy.csv adds noise_db.
/// </summary>
static class SpeechPairData
{
    public const int CleanOnly = 300;
    public const int NoisyOnly = 300;

    public static (string Clean, int CleanRows, string Noisy, int NoisyRows) Generate(Speaker[] speakers)
    {
        var rng = new Rng(0x00C1_EA40_2024_0006UL);

        // 0 = clean only, 1 = noisy only, 2 = both; Fisher-Yates with our own PRNG.
        var roles = new int[speakers.Length];
        for (int i = 0; i < roles.Length; i++)
        {
            roles[i] = i < CleanOnly ? 0 : i < CleanOnly + NoisyOnly ? 1 : 2;
        }
        for (int i = roles.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (roles[i], roles[j]) = (roles[j], roles[i]);
        }

        var clean = new StringBuilder();
        var noisy = new StringBuilder();
        clean.Append("path,speaker_id,transcript,duration_s,label\n");
        noisy.Append("path,speaker_id,transcript,duration_s,label,noise_db\n");
        int cleanRows = 0, noisyRows = 0;
        for (int s = 0; s < speakers.Length; s++)
        {
            var speaker = speakers[s];
            int nClean = roles[s] != 1 ? 2 + rng.NextInt(3) : 0;
            int nNoisy = roles[s] != 0 ? 2 + rng.NextInt(3) : 0;
            for (int u = 1; u <= nClean + nNoisy; u++)
            {
                bool isNoisy = u > nClean;
                string transcript = Utterance.Transcript(rng);
                long centis = Utterance.DurationCentis(rng, transcript, speaker);
                var sb = isNoisy ? noisy : clean;
                sb.Append(isNoisy ? "audio/noisy/" : "audio/clean/").Append(speaker.Id).Append("/utt").Append(Fmt.Int(u)).Append(".wav,")
                  .Append(speaker.Id).Append(',')
                  .Append(transcript).Append(',')
                  .Append(Fmt.Fixed(centis, 2)).Append(',')
                  .Append(speaker.Accent);
                if (isNoisy)
                {
                    // Signal-to-noise ratio of the mixed-in noise: 0 dB (as loud as the speech) … 20 dB (faint).
                    sb.Append(',').Append(Fmt.Fixed(20.0 * rng.NextDouble(), 1));
                    noisyRows++;
                }
                else
                {
                    cleanRows++;
                }
                sb.Append('\n');
            }
        }
        return (clean.ToString(), cleanRows, noisy.ToString(), noisyRows);
    }
}

/// <summary>
/// A minimal, fully specified gzip writer: fixed header (mtime 0, no name, OS = 255 "unknown"),
/// one fixed-Huffman DEFLATE block with greedy LZ77 matching, CRC-32 and size trailer.
/// The result is checked by decompressing it with GZipStream.
/// </summary>
static class Gzip
{
    static readonly int[] LengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
    static readonly int[] LengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    static readonly int[] DistBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
    static readonly int[] DistExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

    // ID1 ID2, CM = deflate, FLG = 0, MTIME = 0 (4 bytes), XFL = 0, OS = 255 (unknown)
    static readonly byte[] Header = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF];

    const int WindowSize = 32768;
    const int MinMatch = 3;
    const int MaxMatch = 258;
    const int MaxChain = 256;
    const int HashBits = 15;

    public static byte[] Compress(byte[] data)
    {
        var bits = new BitWriter();
        foreach (byte b in Header)
        {
            bits.Write(b, 8);
        }

        bits.Write(1, 1);   // BFINAL
        bits.Write(1, 2);   // BTYPE = 01, fixed Huffman codes

        int n = data.Length;
        var head = new int[1 << HashBits];
        Array.Fill(head, -1);
        var prev = new int[n];
        int i = 0;
        while (i < n)
        {
            int bestLen = 0, bestDist = 0;
            if (i + MinMatch <= n)
            {
                int max = Math.Min(MaxMatch, n - i);
                int chain = MaxChain;
                for (int cand = head[Hash(data, i)]; cand >= 0 && i - cand <= WindowSize && chain-- > 0; cand = prev[cand])
                {
                    int len = 0;
                    while (len < max && data[cand + len] == data[i + len])
                    {
                        len++;
                    }
                    if (len > bestLen)
                    {
                        bestLen = len;
                        bestDist = i - cand;
                        if (len == max)
                        {
                            break;
                        }
                    }
                }
            }

            int advance = bestLen >= MinMatch ? bestLen : 1;
            if (bestLen >= MinMatch)
            {
                WriteMatch(bits, bestLen, bestDist);
            }
            else
            {
                WriteLitLen(bits, data[i]);
            }
            for (int k = 0; k < advance; k++, i++)
            {
                if (i + MinMatch <= n)
                {
                    int h = Hash(data, i);
                    prev[i] = head[h];
                    head[h] = i;
                }
            }
        }
        WriteLitLen(bits, 256);   // end of block
        bits.AlignToByte();

        uint crc = Crc32(data);
        bits.Write(crc, 32);
        bits.Write((uint)n, 32);  // ISIZE (mod 2^32)
        byte[] result = bits.ToArray();

        using var check = new GZipStream(new MemoryStream(result), CompressionMode.Decompress);
        using var roundTrip = new MemoryStream();
        check.CopyTo(roundTrip);
        if (!roundTrip.ToArray().AsSpan().SequenceEqual(data))
        {
            throw new InvalidOperationException("gzip round trip failed");
        }
        return result;
    }

    static int Hash(byte[] d, int i) => ((d[i] << 10) ^ (d[i + 1] << 5) ^ d[i + 2]) & ((1 << HashBits) - 1);

    static void WriteLitLen(BitWriter bits, int symbol)
    {
        if (symbol < 144)
        {
            bits.WriteHuffman(0x30 + symbol, 8);
        }
        else if (symbol < 256)
        {
            bits.WriteHuffman(0x190 + symbol - 144, 9);
        }
        else if (symbol < 280)
        {
            bits.WriteHuffman(symbol - 256, 7);
        }
        else
        {
            bits.WriteHuffman(0xC0 + symbol - 280, 8);
        }
    }

    static void WriteMatch(BitWriter bits, int length, int distance)
    {
        int li = LengthBase.Length - 1;
        while (LengthBase[li] > length)
        {
            li--;
        }
        WriteLitLen(bits, 257 + li);
        bits.Write((uint)(length - LengthBase[li]), LengthExtra[li]);

        int di = DistBase.Length - 1;
        while (DistBase[di] > distance)
        {
            di--;
        }
        bits.WriteHuffman(di, 5);
        bits.Write((uint)(distance - DistBase[di]), DistExtra[di]);
    }

    static uint Crc32(byte[] data)
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            table[n] = c;
        }
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc ^ 0xFFFFFFFFu;
    }

    /// <summary>DEFLATE bit order: values LSB first, Huffman codes MSB first.</summary>
    sealed class BitWriter
    {
        readonly MemoryStream _out = new();
        ulong _acc;
        int _count;

        public void Write(uint value, int count)
        {
            _acc |= (ulong)value << _count;
            _count += count;
            while (_count >= 8)
            {
                _out.WriteByte((byte)_acc);
                _acc >>= 8;
                _count -= 8;
            }
        }

        public void WriteHuffman(int code, int length)
        {
            uint reversed = 0;
            for (int k = 0; k < length; k++)
            {
                reversed = (reversed << 1) | (uint)((code >> k) & 1);
            }
            Write(reversed, length);
        }

        public void AlignToByte()
        {
            if (_count > 0)
            {
                Write(0, 8 - _count);
            }
        }

        public byte[] ToArray() => _out.ToArray();
    }
}
