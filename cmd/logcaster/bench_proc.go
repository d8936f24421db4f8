package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchClockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports; reading it with sysconf would
// need cgo.
const benchClockTicks = 100

// benchParseProcStat returns utime+stime from the text of /proc/PID/stat. The
// command name (field 2) is in parentheses and may hold spaces or ')', so
// fields are counted from the last ')'.
func benchParseProcStat(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("proc stat: no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	// After ')' comes field 3 (state); utime is field 14, stime field 15.
	const utimeAt, stimeAt = 14 - 3, 15 - 3
	if len(f) <= stimeAt {
		return 0, fmt.Errorf("proc stat: %d fields after the name", len(f))
	}
	ut, err := strconv.ParseUint(f[utimeAt], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat utime: %w", err)
	}
	st, err := strconv.ParseUint(f[stimeAt], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat stime: %w", err)
	}
	// No process runs for 2^40 ticks (350 years); bigger is a garbled file,
	// and would overflow the Duration.
	const maxTicks = 1 << 40
	if ut > maxTicks || st > maxTicks {
		return 0, fmt.Errorf("proc stat: utime %d stime %d out of range", ut, st)
	}
	return time.Duration(ut+st) * (time.Second / benchClockTicks), nil
}

// benchParseProcKB returns the value of a "Name:  123 kB" line of
// /proc/PID/status in bytes.
func benchParseProcKB(status []byte, name string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("proc status %s: unexpected %q", name, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc status %s: %w", name, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("proc status: no %s line", name)
}

// benchProcCPU is a process's user+system CPU time so far.
func benchProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return benchParseProcStat(b)
}

// benchProcPeakRSS is a process's peak resident set (VmHWM) in bytes.
func benchProcPeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return benchParseProcKB(b, "VmHWM")
}

// benchSelfCPU is the bench client's own user+system CPU time so far.
func benchSelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchDirUsage returns the apparent size (sum of file sizes) and the allocated
// size (what du reports) of every file under dir.
func benchDirUsage(dir string) (apparent, allocated int64, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a part removed by a merge while we walk
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		apparent += info.Size()
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			allocated += st.Blocks * 512 // st_blocks is in 512-byte units
		} else {
			allocated += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("du %s: %w", dir, err)
	}
	return apparent, allocated, nil
}

// benchMachine describes where the figures were measured.
type benchMachine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	MemTotal  string `json:"mem_total"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	// LoadAvg is /proc/loadavg when the bench started: on a shared box
	// other work skews every figure, and this says how much there was.
	LoadAvg string `json:"loadavg_at_start"`
}

func benchReadMachine() benchMachine {
	m := benchMachine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = benchCPUInfoField(b, "model name")
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if v, err := benchParseProcKB(b, "MemTotal"); err == nil {
			m.MemTotal = fmt.Sprintf("%.1f GiB", float64(v)/(1<<30))
		}
	}
	m.LoadAvg = benchLoadAvg()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// benchCPUInfoField returns the first "name : value" of /proc/cpuinfo.
func benchCPUInfoField(cpuinfo []byte, name string) string {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// benchLoadAvg returns the 1, 5 and 15 minute load averages.
func benchLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
