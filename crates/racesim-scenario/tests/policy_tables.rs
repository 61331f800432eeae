//! The built-in policies are written as lock tables (policies/*.toml); each must mean exactly
//! the policy its field-by-field form (tests/fixtures/*.fields.toml) spells out.

use racesim_scenario::policy_file;
use std::path::Path;

#[test]
fn every_builtin_lock_table_means_its_field_form() {
    use racesim_kernel::placement::{LockName, Mode, Point};
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in racesim_kernel::policy::BUILTIN_POLICIES {
        let mut table = policy_file::builtin(name).unwrap();
        let fields = policy_file::load(&fixtures.join(format!("{name}.fields.toml"))).unwrap();
        // The field form has no way to say a direct read holds i_rwsem exclusive to submission
        // (DIO_LOCKING, the ext4/ext3 built-ins since this was added; its `dio_read_i_rwsem` is
        // 5.15's shared lock): the table is the field form plus exactly that placement.
        let dio_locking = |p: &racesim_kernel::placement::Placement| {
            p.lock == LockName::IRwsem
                && p.mode == Mode::Exclusive
                && p.from == Point::DioReadStart
                && p.to == Point::DioReadSubmitted
        };
        let before = table.lock.len();
        table.lock.retain(|p| !dio_locking(p));
        let expected_dio_locking = usize::from(name != "invalidate_lock");
        assert_eq!(before - table.lock.len(), expected_dio_locking, "{name}: DIO_LOCKING placements");
        // Nor can it say that 5.15's truncate takes the invalidate lock before the size changes
        // (b9c1c26739ec): its `invalidation_lock` starts every invalidating function at the
        // eviction. The table differs by exactly that start.
        let mut moved = 0;
        for p in table.lock.iter_mut().filter(|p| p.from == Point::TruncateSetSize) {
            assert_eq!((name, p.lock, p.mode), ("invalidate_lock", LockName::FaultLock, Mode::Exclusive));
            p.from = Point::TruncateInvalidate;
            moved += 1;
        }
        assert_eq!(moved, usize::from(name == "invalidate_lock"), "{name}: truncate's lock at set_size");
        assert_eq!(table, fields, "{name}");
    }
}

#[test]
fn a_lock_the_kernel_function_cannot_take_there_is_refused_naming_operation_and_phase() {
    let text = "name = \"odd\"\nbase = \"legacy\"\n[[lock]]\noperation = \"write fault\"\nphase = \"page_mkwrite\"\nlock = \"i_rwsem\"\nmode = \"shared\"\nrange = \"file\"\n";
    let error = policy_file::parse(text, "odd.toml").unwrap_err();
    assert!(
        error.message.contains("in operation write fault, phase page_mkwrite, the kernel function cannot take i_rwsem"),
        "{error}"
    );
    let twice = "name = \"twice\"\nbase = \"legacy\"\n[[lock]]\noperation = \"write\"\nphase = \"whole syscall\"\nlock = \"range_lock\"\nmode = \"exclusive\"\nrange = \"range\"\n[[lock]]\noperation = \"write\"\nphase = \"write_begin\"\nlock = \"range_lock\"\nmode = \"exclusive\"\nrange = \"page\"\n";
    let error = policy_file::parse(twice, "twice.toml").unwrap_err();
    assert!(error.message.contains("takes range_lock twice"), "{error}");
    let nowhere = "name = \"x\"\nbase = \"legacy\"\n[[lock]]\noperation = \"read\"\nphase = \"copy\"\nlock = \"i_rwsem\"\nmode = \"shared\"\nrange = \"file\"\n";
    assert!(policy_file::parse(nowhere, "x.toml").unwrap_err().message.contains("is not a point where"));
}

#[test]
fn policy_files_that_say_dax_prezero_still_load() {
    use racesim_kernel::policy::DaxZeroing;
    // A variant written before dax_zeroing existed, on a base that now zeroes elsewhere.
    let off = policy_file::parse("name = \"a\"\nbase = \"legacy\"\ndax_prezero = false\n", "a.toml").unwrap();
    assert_eq!(off.dax_zeroing, DaxZeroing::Never);
    let on = policy_file::parse("name = \"b\"\nbase = \"legacy\"\ndax_prezero = true\n", "b.toml").unwrap();
    assert_eq!(on.dax_zeroing, DaxZeroing::Allocation);
    // A complete file from before (what a trace's policy_definition holds): true meant zeroed
    // in get_block, which is what it still means.
    let mut table = toml::Table::try_from(policy_file::builtin("mmaplock").unwrap()).unwrap();
    table.remove("dax_zeroing");
    table.insert("dax_prezero".into(), toml::Value::Boolean(true));
    let old = policy_file::parse(&toml::to_string(&table).unwrap(), "old.toml").unwrap();
    assert_eq!(old, policy_file::builtin("mmaplock").unwrap());
    // A complete file that names neither gets the default, today's allocation-time zeroing.
    table.remove("dax_prezero");
    let silent = policy_file::parse(&toml::to_string(&table).unwrap(), "silent.toml").unwrap();
    assert_eq!(silent.dax_zeroing, DaxZeroing::Allocation);
    let both = "name = \"c\"\nbase = \"legacy\"\ndax_prezero = true\ndax_zeroing = \"never\"\n";
    assert!(policy_file::parse(both, "c.toml").unwrap_err().message.contains("not both"));
}
