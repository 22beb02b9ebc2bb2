using System.CommandLine;

namespace DataPrep.Cli;

/// <summary>
/// <c>dataprep completion bash|zsh|pwsh</c>: prints a script that makes the shell complete dataprep's commands,
/// options and values by asking dataprep itself, through System.CommandLine's suggest directive
/// (<c>dataprep "[suggest:POSITION]" "LINE"</c>). Nothing to install besides dataprep: the suggestions always match
/// the binary in use.
/// </summary>
internal static class CompletionCommand
{
    /// <summary>The shells a script exists for.</summary>
    public static readonly string[] Shells = ["bash", "zsh", "pwsh"];

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var shell = new Argument<string>("SHELL") { Description = "bash, zsh or pwsh (PowerShell)." };
        shell.CompletionSources.Add(Shells);
        var cmd = new Command("completion", "Print a script that enables tab completion of dataprep's commands and options in bash, zsh or PowerShell.");
        cmd.Arguments.Add(shell);
        cmd.SetAction(r =>
        {
            if (Script(r.GetValue(shell)!, DataPrepCli.CommandName) is not { } script)
            {
                stderr.WriteLine($"error: completion {r.GetValue(shell)}: expected {string.Join(", ", Shells[..^1])} or {Shells[^1]}.");
                return DataPrepCli.InvalidOptions;
            }
            stdout.Write(script);
            return DataPrepCli.Ok;
        });
        return cmd;
    }

    /// <summary>The completion script for a shell, for the command <paramref name="name"/>; null for an unknown shell.</summary>
    public static string? Script(string shell, string name) => shell.ToLowerInvariant() switch
    {
        "bash" => $$"""
            # {{name}} completion for bash. This shell:  source <({{name}} completion bash)
            # Every shell:  {{name}} completion bash > ~/.local/share/bash-completion/completions/{{name}}
            _{{Identifier(name)}}_complete()
            {
                local IFS=$'\n'
                # Ask {{name}} itself (System.CommandLine's suggest directive), with the command word as '{{name}}'
                # so that a path such as ./{{name}} completes alike.
                local typed=${#COMP_WORDS[0]}
                local line="{{name}}${COMP_LINE:typed}"
                local point=$(( COMP_POINT - typed + {{name.Length}} ))
                local candidates
                candidates=$("${COMP_WORDS[0]}" "[suggest:${point}]" "${line}" 2>/dev/null) || return 0
                COMPREPLY=( $(compgen -W "${candidates}" -- "${COMP_WORDS[COMP_CWORD]}") )
            }
            complete -o default -F _{{Identifier(name)}}_complete {{name}}

            """,
        "zsh" => $$"""
            #compdef {{name}}
            # {{name}} completion for zsh (after compinit). This shell:  source <({{name}} completion zsh)
            # Every shell: put the output in a file _{{name}} on your $fpath.
            _{{Identifier(name)}}() {
                local -a candidates
                # Ask {{name}} itself (System.CommandLine's suggest directive).
                candidates=("${(@f)$(${words[1]} "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null)}")
                compadd -a candidates
            }
            compdef _{{Identifier(name)}} {{name}}

            """,
        "pwsh" or "powershell" => $$"""
            # {{name}} completion for PowerShell. This session:  {{name}} completion pwsh | Out-String | Invoke-Expression
            # Every session: add that line to $PROFILE.
            Register-ArgumentCompleter -Native -CommandName {{name}} -ScriptBlock {
                param($wordToComplete, $commandAst, $cursorPosition)
                # Ask {{name}} itself (System.CommandLine's suggest directive).
                $exe = $commandAst.CommandElements[0].ToString()
                & $exe "[suggest:$cursorPosition]" "$commandAst" 2>$null | ForEach-Object {
                    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
                }
            }

            """,
        _ => null,
    };

    private static string Identifier(string name) => new(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
}
