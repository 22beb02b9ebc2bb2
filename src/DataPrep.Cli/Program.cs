using DataPrep.Cli;

return await DataPrepCli.RunAsync(args);
