// compose-config: `docker compose config --format json` without docker. Loads compose files with
// compose-go, the library docker compose loads them with: the Compose Specification's schema,
// interpolation from an env file, profiles (--profile, else COMPOSE_PROFILES from the env
// file), depends_on and the other consistency checks. Only the env file is read: the shell's
// environment does not take part, so the result is the one that file gives.
//
//	go run . -f ../../compose.yaml --env-file ../../.env.example [--profile production]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var files, envFiles, profiles list
	flag.Var(&files, "f", "compose file (repeatable)")
	flag.Var(&envFiles, "env-file", "env file (repeatable; default: .env beside the first file)")
	flag.Var(&profiles, "profile", "profile to enable (repeatable)")
	flag.Parse()
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-config -f FILE [--env-file FILE] [--profile NAME]")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions(files,
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(profiles...),
	)
	if err == nil {
		err = run(options)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compose-config:", err)
		os.Exit(1)
	}
}

func run(options *cli.ProjectOptions) error {
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return err
	}
	out, err := project.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(out))
	return err
}
